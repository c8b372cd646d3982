// Filled in as the data module is built.
export {};
