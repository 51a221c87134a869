/*
 * Configuration without code: an app's settings from cdktf.json's context
 * and the environment, parsed into the props of each construct.
 */
export * from "./knobs";
export * from "./settings";
export * from "./app";
export * from "./build";
