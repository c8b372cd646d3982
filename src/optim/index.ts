// Filled in as the optim module is built.
export {};
