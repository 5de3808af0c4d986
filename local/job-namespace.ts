// A SageMaker job's own view of the filesystem. Scripts written for SageMaker hard-code
// `/opt/ml/...` paths, so each job runs in a user, mount, PID and UTS namespace of its own
// (util-linux `unshare`, no privileges needed where user namespaces are enabled) in which
// `/opt/ml` is that job's folder: two jobs at once each see their own, and nothing on the host
// changes. Where the namespace cannot be made, jobs run as before (MODELDROP_OPT_ML and
// rewritten arguments; local/sagemaker.ts says so in the job's log).
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, isAbsolute, join } from "node:path";

/** The host paths a namespaced job needs; both must be real paths (no symlinks). */
export interface JobMounts {
  /** An empty folder each job's namespace mounts its new root on, privately: empty on the host. */
  mountPoint: string;
  /** The job's folder: `/opt/ml` inside. */
  jobFolder: string;
  /** The working directory inside the namespace (e.g. `/opt/ml/code`). */
  cwd: string;
  /**
   * Python environments the job runs on besides its interpreter's own (the framework's under a
   * cached requirements virtualenv), kept read-only as well.
   */
  environments?: string[];
}

export type NamespaceSupport = { available: true } | { available: false; reason: string };

const UNSHARE_FLAGS = [
  "--user",
  "--map-root-user",
  "--mount",
  "--pid",
  "--uts",
  "--fork",
  "--kill-child",
];

// Runs as PID 1 of the job's namespaces, starting as few programs as it can (the job waits for
// it). The new root is the host's / bound on the mount point, with a tmpfs over its /opt that
// shows the host's /opt entries (pip's find-links live there on some machines) plus `ml`, the
// job folder; nothing is created on the host. Where the host has no /opt directory (or a link),
// the new root is a tmpfs with each entry of / bound into it and an /opt of its own (binding the
// mount point's ancestor brings a copy of that tmpfs along, unmounted again). Then the
// filesystem is made read-only except the job folder, /tmp, /var/tmp, /dev (shared memory),
// /proc, /sys and the user's cache and config folders (pip's cache, matplotlib), so a script
// cannot write into the project or its .venv. Last, it starts the job as its child and waits:
// a SIGTERM to the job's process group reaches the job as before (PID 1 itself only ignores
// it), and when this process dies (SIGKILL from Stop, MaxRuntime or the job reaper) the kernel
// kills everything left in the PID namespace, even processes that left the process group.
const SETUP = `
set -eEu
trap 'echo "modeldrop: the job namespace could not be set up (line $LINENO)" >&2' ERR
root=$1 job=$2 cwd=$3 environments=$4
shift 5
job_path=$PATH
PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH
# Binds every entry of $1 but $3 into $2: directories (with what is mounted below them), files,
# and symbolic links copied as links.
bind_children() {
  local entry name links=() dirs=() files=()
  for entry in "$1"/* "$1"/.[!.]* "$1"/..?*; do
    [ -e "$entry" ] || [ -L "$entry" ] || continue
    name=\${entry##*/}
    if [ "$name" = "$3" ]; then continue
    elif [ -L "$entry" ]; then links+=("$entry")
    elif [ -d "$entry" ]; then dirs+=("$name")
    else files+=("$name"); : >"$2/$name"
    fi
  done
  [ \${#links[@]} -eq 0 ] || cp -P -t "$2" -- "\${links[@]}"
  [ \${#dirs[@]} -eq 0 ] || mkdir -- "\${dirs[@]/#/$2/}"
  for name in "\${dirs[@]}"; do mount --rbind "$1/$name" "$2/$name"; done
  for name in "\${files[@]}"; do mount --bind "$1/$name" "$2/$name"; done
}
declare -A mounted
read_mounts() {
  local target options
  mounted=()
  while read -r _ _ _ _ target options _; do
    printf -v target '%b' "$target"
    mounted[$target]=$options
  done </proc/self/mountinfo
}
if [ -d /opt ] && [ ! -L /opt ]; then
  mount --rbind / "$root"
else
  mount -t tmpfs -o mode=0755 modeldrop-job "$root"
  bind_children / "$root" opt
  umount -l "$root$root"
  mkdir "$root/opt"
fi
mount -t tmpfs -o mode=0755 modeldrop-job-opt "$root/opt"
[ ! -d /opt ] || bind_children /opt "$root/opt" ml
mkdir "$root/opt/ml"
mount --bind "$job" "$root/opt/ml"
mount -t proc proc "$root/proc" 2>/dev/null || true
if [ -f /etc/hosts ]; then
  mapfile -t hosts </etc/hosts
  printf '%s\\n' "\${hosts[@]}" "127.0.0.1 algo-1" >"$root/opt/.hosts"
  mount --bind "$root/opt/.hosts" "$root/etc/hosts"
  rm "$root/opt/.hosts"
fi
mkdir "$root/opt/.old-root"
cd "$root"
pivot_root . opt/.old-root
umount -l /opt/.old-root
rmdir /opt/.old-root
echo algo-1 >/proc/sys/kernel/hostname 2>/dev/null || true
home=\${HOME:-/nonexistent}
mapfile -t writable < <(realpath -qe -- /opt/ml /tmp /var/tmp /dev /proc /sys \\
  "\${XDG_CACHE_HOME:-$home/.cache}" "\${XDG_CONFIG_HOME:-$home/.config}" || true)
read_mounts
for path in "\${writable[@]}"; do
  [ -n "\${mounted[$path]+set}" ] || mount --rbind "$path" "$path"
done
read_mounts
for target in "\${!mounted[@]}"; do
  case ,\${mounted[$target]}, in *,ro,*) continue ;; esac
  keep=
  for path in "\${writable[@]}"; do
    case $target in "$path" | "$path"/*) keep=1 ;; esac
  done
  [ -n "$keep" ] || mount -o remount,bind,ro "$target"
done
# The job's Python environments stay read-only even where they lie below a writable folder (a
# project checked out under /tmp), as the framework's environment is in a container image.
IFS=: read -r -a environment_list <<<"$environments"
for environment in "\${environment_list[@]}"; do
  [ -n "$environment" ] && [ -d "$environment" ] || continue
  mount --bind "$environment" "$environment"
  mount -o remount,bind,ro "$environment"
done
trap - ERR
PATH=$job_path
cd "$cwd"
(trap - INT QUIT; exec "$@") &
child=$!
trap : TERM INT
while :; do
  wait "$child" && status=0 || status=$?
  kill -0 "$child" 2>/dev/null || break
done
exit "$status"
`;

/**
 * The virtualenv (or Python installation) an interpreter belongs to: `<env>/bin/python` →
 * `<env>`, resolved; empty when the program is not a path to an interpreter.
 */
function pythonEnvironment(program: string | undefined): string {
  if (!program || !isAbsolute(program) || !/\/python[0-9.]*$/.test(program)) return "";
  try {
    return realpathSync(dirname(dirname(program)));
  } catch {
    return "";
  }
}

/** The argv that runs `argv` in a namespace of its own with `/opt/ml` bound to the job folder. */
export function namespacedArgv(argv: string[], mounts: JobMounts): string[] {
  return [
    "unshare",
    ...UNSHARE_FLAGS,
    "bash",
    "-c",
    SETUP,
    "modeldrop-job",
    mounts.mountPoint,
    mounts.jobFolder,
    mounts.cwd,
    [pythonEnvironment(argv[0]), ...(mounts.environments ?? []).map(pythonEnvironment)]
      .filter(Boolean)
      .join(":"),
    "--",
    ...argv,
  ];
}

let support: NamespaceSupport | undefined;

/** Whether this machine can run jobs in their own namespace: probed once per process. */
export function jobNamespaceSupport(): NamespaceSupport {
  support ??= probe();
  return support;
}

function probe(): NamespaceSupport {
  const scratch = realpathSync(mkdtempSync(join(tmpdir(), "modeldrop-namespace-probe-")));
  try {
    const mountPoint = join(scratch, "root");
    const jobFolder = join(scratch, "job");
    mkdirSync(mountPoint);
    mkdirSync(jobFolder);
    writeFileSync(join(jobFolder, "probe"), "");
    const [program = "unshare", ...args] = namespacedArgv(["test", "-f", "/opt/ml/probe"], {
      mountPoint,
      jobFolder,
      cwd: "/opt/ml",
    });
    const result = spawnSync(program, args, {
      encoding: "utf8",
      timeout: 20_000,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/" },
    });
    if (result.status === 0) return { available: true };
    if (result.error && "code" in result.error && result.error.code === "ENOENT")
      return { available: false, reason: "unshare (util-linux) is not installed" };
    const said = `${result.error?.message ?? ""}\n${result.stderr ?? ""}`.trim().split("\n");
    return {
      available: false,
      reason: said.at(-1) || `unshare exited with ${result.status ?? result.signal}`,
    };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
