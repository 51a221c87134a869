export * from "./model";
export * from "./picture";
