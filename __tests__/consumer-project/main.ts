import { App } from "cdktf";
import { PlatformStack } from "./platform";
import { PlatformAwsStack } from "./platform-aws";

const app = new App();
const nodes = process.env.NODES;
new PlatformStack(app, "platform", { nodeCount: nodes === undefined ? undefined : Number(nodes) });
new PlatformAwsStack(app, "platform-aws");
app.synth();
