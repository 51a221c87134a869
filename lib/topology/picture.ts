import * as fs from "node:fs";
import * as path from "node:path";
import { TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { onSynthesize, stackFolder, writeFileIfChanged } from "../core/synthesized-files";
import { ClusterTopology, renderTopologyMarkdown, renderTopologySvg } from "../render/topology";

/** The picture's files, in the stack folder (`cdktf.out/stacks/<stack>/`). */
export const TOPOLOGY_SVG = "topology.svg";
export const TOPOLOGY_MARKDOWN = "topology.md";

const ID = "CoreOsTopology";

/**
 * The topology picture of a stack, written on every synth as topology.svg
 * and topology.md (a Mermaid block) in the stack folder. Each target
 * construct (VagrantCluster, AwsCluster) adds the cluster it runs, with its
 * front and its own facts; one picture shows every cluster of the stack.
 */
export class TopologyPicture extends Construct {
  /** The stack's picture, made on first use. */
  public static of(scope: Construct): TopologyPicture {
    const stack = TerraformStack.of(scope);
    const found = stack.node.tryFindChild(ID);
    return found instanceof TopologyPicture ? found : new TopologyPicture(stack, ID);
  }

  private readonly panels: (() => ClusterTopology)[] = [];

  private constructor(stack: TerraformStack, id: string) {
    super(stack, id);
    onSynthesize(this, (session) => {
      const dir = stackFolder(session, stack);
      fs.mkdirSync(dir, { recursive: true });
      const panels = this.panels.map((panel) => panel());
      writeFileIfChanged(path.join(dir, TOPOLOGY_SVG), renderTopologySvg(stack.node.id, panels));
      writeFileIfChanged(
        path.join(dir, TOPOLOGY_MARKDOWN),
        renderTopologyMarkdown(stack.node.id, panels, TOPOLOGY_SVG),
      );
    });
  }

  /** Adds a cluster's panel; `panel` runs at synth, when the target's plan is complete. */
  public add(panel: () => ClusterTopology): void {
    this.panels.push(panel);
  }
}
