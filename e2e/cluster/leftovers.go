//go:build linux

package cluster

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/metrics-proxy/injector/e2e/testtool"
)

// LockWait bounds how long Up waits for another run of the cluster on this machine to end.
var LockWait = 10 * time.Minute

// lock takes the machine-wide lock that the heavy end-to-end tests share. Only its holder creates
// or removes what Prefix names, so what it finds at the start is what a killed run left.
func lock(ctx context.Context) (unlock func(), err error) {
	unlock, err = testtool.MachineLock(ctx, LockWait)
	if err != nil {
		return nil, fmt.Errorf("cluster lock: %w", err)
	}
	return unlock, nil
}

// sweep removes everything a run of the cluster leaves on this machine: the processes it
// recorded, every process inside a node's network namespace (containerd, kubelet, shims,
// hostNetwork containers) or in the cluster's cgroups (the pods), the cgroups, the namespaces,
// veths and bridge, the mountpoints it created and its directory dir. It returns what it found
// and what failed.
func sweep(ctx context.Context, dir string) (found []string, errs []error) {
	killed := map[int]bool{}
	for _, pid := range killRecorded(filepath.Join(dir, "pids")) {
		killed[pid] = true
	}
	thawed := 0
	for range 40 { // processes may fork while we kill (kubelet restarts containers): repeat
		pids := append(processesInNamespaces(), processesInCgroups()...)
		if len(pids) == 0 {
			break
		}
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			killed[pid] = true
		}
		// Thaw after the kill, so that a runc killed in this round cannot freeze them again.
		thawed += thawCgroups()
		time.Sleep(250 * time.Millisecond)
	}
	if left := append(processesInNamespaces(), processesInCgroups()...); len(left) > 0 {
		errs = append(errs, fmt.Errorf("processes survive SIGKILL: %v", left))
	}
	if len(killed) > 0 {
		found = append(found, fmt.Sprintf("%d processes", len(killed)))
	}
	if thawed > 0 {
		found = append(found, fmt.Sprintf("%d frozen cgroups (thawed)", thawed))
	}
	if n, err := removeCgroups(); n > 0 || err != nil {
		found = append(found, fmt.Sprintf("%d cgroups", n))
		if err != nil {
			errs = append(errs, err)
		}
	}
	if ns := nodeNamespaces(); len(ns) > 0 {
		found = append(found, "network namespaces "+strings.Join(ns, ", "))
	}
	errs = append(errs, networkDown(ctx)...)
	if data, err := os.ReadFile(filepath.Join(dir, "mountpoints")); err == nil {
		for _, d := range strings.Fields(string(data)) {
			_ = os.Remove(d) // empty directories this cluster created on the host; kept when in use
		}
	}
	if _, err := os.Stat(dir); err == nil {
		found = append(found, "directory "+dir)
		for _, m := range mountsUnder(dir) {
			if err := syscall.Unmount(m, syscall.MNT_DETACH); err != nil {
				errs = append(errs, fmt.Errorf("unmount %s: %w", m, err))
			}
		}
		if err := os.RemoveAll(dir); err != nil {
			errs = append(errs, fmt.Errorf("remove %s: %w", dir, err))
		}
	}
	return found, errs
}

// killRecorded kills the processes of the pid files in dir whose start time still matches.
func killRecorded(dir string) []int {
	entries, _ := os.ReadDir(dir)
	var n []int
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		f := strings.Fields(string(data))
		if len(f) != 2 {
			continue
		}
		pid, err := strconv.Atoi(f[0])
		if err != nil {
			continue
		}
		if st, err := startTime(pid); err == nil && st == f[1] {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			n = append(n, pid)
		}
	}
	return n
}

// processesInNamespaces lists the processes whose network namespace is a node's.
func processesInNamespaces() []int {
	want := map[string]bool{}
	for _, ns := range nodeNamespaces() {
		if ino, ok := netnsInode(ns); ok {
			want[fmt.Sprintf("net:[%d]", ino)] = true
		}
	}
	if len(want) == 0 {
		return nil
	}
	self := os.Getpid()
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		if link, err := os.Readlink("/proc/" + e.Name() + "/ns/net"); err == nil && want[link] {
			pids = append(pids, pid)
		}
	}
	return pids
}

// cgroupDirs lists the cluster's cgroup directories in every hierarchy, deepest first.
func cgroupDirs() []string {
	var dirs []string
	roots, _ := filepath.Glob("/sys/fs/cgroup/*/" + Prefix)
	for _, root := range roots {
		_ = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, path)
			}
			return nil
		})
	}
	sort.Slice(dirs, func(i, j int) bool { return strings.Count(dirs[i], "/") > strings.Count(dirs[j], "/") })
	return dirs
}

// processesInCgroups lists the processes in the cluster's cgroups.
func processesInCgroups() []int {
	var pids []int
	for _, d := range cgroupDirs() {
		data, err := os.ReadFile(filepath.Join(d, "cgroup.procs"))
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(data)) {
			if pid, err := strconv.Atoi(f); err == nil {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

// thawCgroups thaws the cluster's frozen cgroups and returns how many were frozen. runc freezes a
// container's cgroup while it signals every process of it (kill --all) or sets its device rules;
// a runc killed in between leaves the cgroup frozen, and a frozen process does not die of SIGKILL
// until its cgroup thaws: cgroup v1's freezer.state, v2's cgroup.freeze.
func thawCgroups() int {
	n := 0
	for _, d := range cgroupDirs() {
		for file, thaw := range map[string]string{"freezer.state": "THAWED", "cgroup.freeze": "0"} {
			state, err := os.ReadFile(filepath.Join(d, file))
			if err != nil || strings.TrimSpace(string(state)) == thaw {
				continue
			}
			if f, err := os.OpenFile(filepath.Join(d, file), os.O_WRONLY, 0); err == nil {
				if _, err := f.WriteString(thaw); err == nil {
					n++
				}
				_ = f.Close()
			}
		}
	}
	return n
}

// removeCgroups removes the cluster's cgroups, deepest first.
func removeCgroups() (int, error) {
	var errs []error
	dirs := cgroupDirs()
	for _, d := range dirs {
		if err := syscall.Rmdir(d); err != nil && !errors.Is(err, syscall.ENOENT) {
			errs = append(errs, fmt.Errorf("cgroup %s: %w", d, err))
		}
	}
	return len(dirs), errors.Join(errs...)
}

// mountsUnder lists this mount namespace's mountpoints under dir, deepest first.
func mountsUnder(dir string) []string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) > 4 && (fields[4] == dir || strings.HasPrefix(fields[4], dir+"/")) {
			out = append(out, fields[4])
		}
	}
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}
