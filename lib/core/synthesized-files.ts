import * as fs from "node:fs";
import * as path from "node:path";
import { Construct } from "constructs";
import { TerraformStack } from "cdktf";
import { ClusterConfigError } from "./errors";

// cdktf calls `onSynthesize` of any construct carrying this symbol, after the
// stack folder exists and before the stack JSON is written (TerraformAsset
// uses the same hook). The symbol is global, so no deep import is needed.
const CUSTOM_SYNTHESIS = Symbol.for("cdktf/customSynthesis");

interface SynthesisSession {
  readonly outdir: string;
  readonly manifest: {
    forStack(stack: TerraformStack): { readonly workingDirectory: string };
  };
}

/** Runs `fn` when cdktf synthesizes the construct's stack (after the stack folder exists). */
export function onSynthesize(
  construct: Construct,
  fn: (session: { readonly outdir: string }) => void,
): void {
  Object.defineProperty(construct, CUSTOM_SYNTHESIS, {
    value: { onSynthesize: fn },
    enumerable: false,
  });
}

/** A file with its permission bits. */
export interface SynthesizedFile {
  /** Its text; a getter is read when the file is written (one large text at a time). */
  readonly contents: string;
  /** e.g. 0o600 for a file that holds private keys. */
  readonly mode: number;
}

/** Relative file path → contents (written 0644), or contents with a mode. */
export type SynthesizedFileSet = Readonly<Record<string, string | SynthesizedFile>>;

/** Props of SynthesizedFiles. */
export interface SynthesizedFilesProps {
  /** Folder relative to the stack's working directory, e.g. `clusters/core`. */
  readonly directory: string;
  /**
   * Relative file path → contents (written 0644), or contents with a mode; or
   * a function that gives them when the stack is written (after every
   * construct has added what it adds).
   */
  readonly files: SynthesizedFileSet | (() => SynthesizedFileSet);
  /**
   * The owner's prop that decides the folder, named when another construct
   * of the stack already writes there.
   * @default "cluster"
   */
  readonly folderProp?: string;
  /**
   * Called once the files are written (e.g. to let go of texts kept for them).
   * @default - nothing
   */
  readonly onWritten?: () => void;
}

/** Lists the files written by the last synth, so the next one removes only its own stale files. */
export const OWNED_FILES_LIST = ".synthesized-files.json";

/**
 * Writes text files into the synthesized stack folder
 * (`cdktf.out/stacks/<stack>/<directory>/…`), at fixed, readable paths that
 * Terraform reaches relative to the stack folder. Files the previous synth
 * wrote and this one does not (a removed node's config) are deleted; anything
 * else in the folder (Vagrant's `.vagrant` state) is left alone.
 */
export class SynthesizedFiles extends Construct {
  /** The folder, relative to the stack's working directory. */
  public readonly directory: string;
  private readonly files: SynthesizedFilesProps["files"];
  private readonly onWritten?: () => void;

  constructor(scope: Construct, id: string, props: SynthesizedFilesProps) {
    super(scope, id);
    const dir = path.posix.normalize(props.directory);
    if (dir.startsWith("..") || path.posix.isAbsolute(dir)) {
      throw new Error(`SynthesizedFiles directory must stay inside the stack folder: ${dir}`);
    }
    this.directory = dir;
    this.files = props.files;
    this.onWritten = props.onWritten;
    const stack = TerraformStack.of(this);
    this.assertFolderFree(stack, props.folderProp ?? "cluster");
    onSynthesize(this, (session) => this.write(session as SynthesisSession, stack));
  }

  // Two constructs writing one folder would overwrite each other's files (and prune them).
  private assertFolderFree(stack: TerraformStack, prop: string): void {
    const inside = (a: string, b: string) => a === b || a.startsWith(`${b}/`);
    const other = stack.node
      .findAll()
      .find(
        (c): c is SynthesizedFiles =>
          c instanceof SynthesizedFiles &&
          c !== this &&
          (inside(c.directory, this.directory) || inside(this.directory, c.directory)),
      );
    if (!other) return;
    const owner = (c: Construct) => c.node.scope ?? c;
    const describe = (c: Construct) => `${owner(c).constructor.name} "${owner(c).node.path}"`;
    throw new ClusterConfigError(describe(this), [
      {
        prop,
        value: this.directory,
        allowed: `an artifact folder no other construct of stack "${stack.node.id}" writes: ${describe(other)} writes ${other.directory} (one target per cluster and kind, one name per cluster)`,
      },
    ]);
  }

  private write(session: SynthesisSession, stack: TerraformStack): void {
    const root = path.join(stackFolder(session, stack), this.directory);
    const listPath = path.join(root, OWNED_FILES_LIST);
    const files = typeof this.files === "function" ? this.files() : this.files;
    const previous: string[] = fs.existsSync(listPath)
      ? JSON.parse(fs.readFileSync(listPath, "utf8"))
      : [];
    for (const rel of previous) {
      if (!(rel in files)) fs.rmSync(path.join(root, rel), { force: true });
    }
    // A file the last synth wrote is left alone when its text and mode are unchanged:
    // no write, its modification time kept (a re-synth of 1,000 nodes rewrites nothing).
    const written = new Set(previous);
    const folders = new Set<string>();
    for (const [rel, file] of Object.entries(files)) {
      const target = path.join(root, rel);
      const { contents, mode } = typeof file === "string" ? { contents: file, mode: 0o644 } : file;
      if (written.has(rel) && unchanged(target, contents, mode)) continue;
      const folder = path.dirname(target);
      if (!folders.has(folder)) fs.mkdirSync(folder, { recursive: true });
      folders.add(folder);
      writeFileAtomically(target, contents, mode);
    }
    fs.writeFileSync(listPath, `${JSON.stringify(Object.keys(files).sort(), null, 2)}\n`);
    this.onWritten?.();
  }
}

/** The stack's folder in the output (`cdktf.out/stacks/<stack>`), as cdktf synthesizes it. */
export function stackFolder(session: { readonly outdir: string }, stack: TerraformStack): string {
  const s = session as SynthesisSession;
  return path.join(s.outdir, s.manifest.forStack(stack).workingDirectory);
}

/**
 * Writes `contents` to `target` through a temporary file and a rename: a
 * reader never sees half a file, and a private file is private before it gets
 * its contents (and stays so when it existed).
 */
export function writeFileAtomically(target: string, contents: string, mode = 0o644): void {
  const tmp = `${target}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, contents, { mode });
  fs.chmodSync(tmp, mode);
  fs.renameSync(tmp, target);
}

/** Writes `target` unless it holds exactly `contents` with `mode` already (its time kept). */
export function writeFileIfChanged(target: string, contents: string, mode = 0o644): void {
  if (!unchanged(target, contents, mode)) writeFileAtomically(target, contents, mode);
}

/** True when `file` holds exactly `contents` with permission bits `mode`. */
function unchanged(file: string, contents: string, mode: number): boolean {
  try {
    const stat = fs.statSync(file);
    if ((stat.mode & 0o7777) !== mode || stat.size !== Buffer.byteLength(contents, "utf8")) {
      return false;
    }
    // Compared as bytes: no copy of every file of a large cluster as a string on V8's heap.
    return fs.readFileSync(file).equals(Buffer.from(contents, "utf8"));
  } catch {
    return false;
  }
}
