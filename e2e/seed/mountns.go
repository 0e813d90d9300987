package seed

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

// mount is a volume the played kubelet mounts into a container: the host directory that holds
// it and the container path.
type mount struct {
	host, path string
	readOnly   bool
}

// inNamespace returns the command line that runs bin with args as a container would see its
// mounts: in a private mount namespace of its own (unshare), with a fresh tmpfs over /run and an
// overlay over /etc (so nothing on the host changes), each mount bind-mounted at its container
// path there (read-only ones remounted read-only), then bin executed as uid:gid (setpriv) when
// user is set. Only paths under /run and /etc can be mounted this way; anything else is an error.
// It needs root (CAP_SYS_ADMIN), as the kubelet does; scratch is an empty directory for the
// overlay's upper and work directories.
func inNamespace(mounts []mount, user *[2]int64, scratch, bin string, args []string) (string, []string, error) {
	var script []string
	add := func(format string, a ...any) { script = append(script, fmt.Sprintf(format, a...)) }
	add("set -e")
	var run, etc bool
	for _, m := range mounts {
		switch {
		case m.path == "/run" || strings.HasPrefix(m.path, "/run/"):
			run = true
		case strings.HasPrefix(m.path, "/etc/"):
			etc = true
		default:
			return "", nil, fmt.Errorf("mount %s: this kubelet mounts volumes only under /run and /etc", m.path)
		}
	}
	if run {
		add("mount -t tmpfs -o mode=0755,size=4m kubelet-run /run")
	}
	if etc {
		upper, work := filepath.Join(scratch, "etc-upper"), filepath.Join(scratch, "etc-work")
		add("mkdir -p %s %s", quote(upper), quote(work))
		add("mount -t overlay kubelet-etc -o lowerdir=/etc,upperdir=%s,workdir=%s /etc", quote(upper), quote(work))
	}
	for _, m := range mounts {
		add("mkdir -p %s", quote(m.path))
		add("mount --bind %s %s", quote(m.host), quote(m.path))
		if m.readOnly {
			add("mount -o remount,bind,ro %s", quote(m.path))
		}
	}
	exec := []string{"exec"}
	if user != nil {
		exec = append(exec, "setpriv", "--reuid="+strconv.FormatInt(user[0], 10), "--regid="+strconv.FormatInt(user[1], 10), "--clear-groups", "--")
	}
	add(`%s "$@"`, strings.Join(exec, " "))
	argv := append([]string{"--mount", "--propagation", "private", "--", "/bin/sh", "-c", strings.Join(script, "\n"), bin, bin}, args...)
	return "/usr/bin/unshare", argv, nil
}

// quote is s in single quotes for the shell.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
