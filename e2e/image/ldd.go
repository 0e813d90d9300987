package image

import (
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
)

// WithLibraries returns the binary at src as a File at dst plus every shared library `ldd` lists
// for it (at the path ldd names, content followed through symlinks). A static binary comes alone.
func WithLibraries(src, dst string) ([]File, error) {
	files := []File{{Path: dst, Source: src}}
	libs, err := Libraries(src)
	if err != nil {
		return nil, err
	}
	for _, l := range libs {
		files = append(files, File{Path: l, Source: l})
	}
	return files, nil
}

// Libraries returns the absolute paths of the shared libraries ldd lists for binary, the dynamic
// loader included; none for a static binary.
func Libraries(binary string) ([]string, error) {
	var out, errOut bytes.Buffer
	cmd := exec.Command("ldd", binary)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		if strings.Contains(out.String()+errOut.String(), "not a dynamic executable") {
			return nil, nil
		}
		return nil, fmt.Errorf("ldd %s: %w: %s", binary, err, strings.TrimSpace(errOut.String()))
	}
	return parseLdd(out.String())
}

// parseLdd reads ldd's output: "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)",
// "/lib64/ld-linux-x86-64.so.2 (0x...)", "linux-vdso.so.1 (0x...)" (no file: skipped).
func parseLdd(out string) ([]string, error) {
	var libs []string
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.Contains(line, "statically linked") {
			continue
		}
		if strings.Contains(line, "=> not found") {
			return nil, fmt.Errorf("ldd: a library is missing: %s", line)
		}
		if _, after, ok := strings.Cut(line, "=> "); ok {
			line = after
		}
		p := strings.Fields(line)[0]
		if filepath.IsAbs(p) {
			libs = append(libs, p)
		}
	}
	return libs, nil
}
