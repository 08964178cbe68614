import type { CliIo } from "../../src/cli/output.js";

/** A {@link CliIo} that keeps everything written, for in-process CLI tests. */
export interface CapturedIo extends CliIo {
  out(): string;
  err(): string;
}

/** Creates an io object that records stdout and stderr as text. */
export function captureIo(env: Record<string, string | undefined> = {}): CapturedIo {
  let stdout = "";
  let stderr = "";

  return {
    env,
    stdout: {
      write(text: string) {
        stdout += text;
      },
    },
    stderr: {
      write(text: string) {
        stderr += text;
      },
    },
    out: () => stdout,
    err: () => stderr,
  };
}
