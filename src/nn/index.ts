// Layers and containers (torch.nn): Module, Parameter, Sequential and every CNN layer.

export * from "./module.js";
export * from "./parameter.js";
export * from "./containers.js";
export * from "./linear.js";
export * from "./empty.js";
export * as init from "./init.js";
