// Jobs are process groups of their own, so a local cloud killed with SIGKILL would leave them
// running (and writing) with nobody to read their outcome. A small guard process, started with
// the first job, holds a pipe from the local cloud and the list of live job groups: when the
// pipe closes, because the local cloud ended in any way, it kills every group still listed.
// Only a job that leaves its process group (setsid) escapes it; the next start kills those by
// their recorded group (SageMakerService.reconcileAfterRestart).
import { type ChildProcess, spawn } from "node:child_process";
import type { Socket } from "node:net";

const GUARD = `
declare -A groups=()
while IFS= read -r line; do
  case $line in
    +*) groups[\${line:1}]=1 ;;
    -*) unset "groups[\${line:1}]" ;;
  esac
done
for group in "\${!groups[@]}"; do kill -KILL -- "-$group" 2>/dev/null; done
`;

export class JobReaper {
  private guard: ChildProcess | undefined;

  /** From now on, the group led by `pid` dies with the local cloud. */
  watch(pid: number): void {
    this.send(`+${pid}`);
  }

  /** The group ended by itself: its id may be reused, so forget it. */
  release(pid: number): void {
    this.send(`-${pid}`);
  }

  /** A clean stop: the guard kills what is still listed (nothing, after a shutdown) and exits. */
  stop(): void {
    this.guard?.stdin?.end();
    this.guard = undefined;
  }

  private send(line: string): void {
    this.guard ??= startGuard();
    this.guard.stdin?.write(`${line}\n`);
  }
}

function startGuard(): ChildProcess {
  const guard = spawn("bash", ["-c", GUARD], {
    stdio: ["pipe", "ignore", "ignore"],
    // Its own group, so signals meant for the local cloud's group (Ctrl-C) leave it to its job.
    detached: true,
  });
  guard.on("error", () => {});
  guard.stdin?.on("error", () => {});
  // Neither the guard nor its pipe keeps the local cloud's event loop alive.
  guard.unref();
  (guard.stdin as Socket | null)?.unref();
  return guard;
}
