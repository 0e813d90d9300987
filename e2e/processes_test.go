package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// processesWith lists the pids of live processes whose environment holds the variable marker
// (NAME=value; the demo's children inherit it) or whose command line contains cmdline (the
// scenario's work directory: its components and haproxy are started with paths in it). An empty
// argument matches nothing.
func processesWith(t *testing.T, marker, cmdline string) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skipf("no /proc to look for processes: %v", err)
	}
	var pids []string
	for _, e := range entries {
		if e.Name() == "self" || strings.Trim(e.Name(), "0123456789") != "" {
			continue
		}
		state, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if bytes.Contains(state, []byte(") Z ")) {
			continue // a zombie already exited; only its parent's wait is missing
		}
		env, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		args, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		match := cmdline != "" && bytes.Contains(args, []byte(cmdline))
		for _, kv := range bytes.Split(env, []byte{0}) {
			match = match || (marker != "" && string(kv) == marker)
		}
		if match {
			pids = append(pids, e.Name()+" "+strings.ReplaceAll(string(args), "\x00", " "))
		}
	}
	return pids
}
