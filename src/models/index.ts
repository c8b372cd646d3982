// Filled in as the models module is built.
export {};
