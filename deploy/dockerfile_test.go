package deploy_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/metrics-proxy/injector/e2e/testtool"
)

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct{ op, args string }

// dockerfile reads the repository's Dockerfile as stages of instructions, each starting at FROM.
func dockerfile(t *testing.T) [][]instruction {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testtool.RepoRoot(), "Dockerfile"))
	require.NoError(t, err)
	var stages [][]instruction
	var line string
	for _, l := range strings.Split(string(data), "\n") {
		l = strings.TrimSpace(l)
		if line == "" && (l == "" || strings.HasPrefix(l, "#")) {
			continue
		}
		if cont, ok := strings.CutSuffix(l, "\\"); ok {
			line += cont + " "
			continue
		}
		line += l
		op, args, _ := strings.Cut(line, " ")
		line = ""
		in := instruction{op: strings.ToUpper(op), args: strings.Join(strings.Fields(args), " ")}
		if in.op == "FROM" {
			stages = append(stages, nil)
		}
		require.NotEmpty(t, stages, "%s before FROM", in.op)
		stages[len(stages)-1] = append(stages[len(stages)-1], in)
	}
	return stages
}

// TestDockerfile: a Go 1.26 build stage makes a static, reproducible binary stamped with its
// version; the image is distroless static as nonroot (the uid the Deployment runs as), holds
// only the binary and runs it directly, without a shell.
func TestDockerfile(t *testing.T) {
	stages := dockerfile(t)
	require.Len(t, stages, 2)
	build, final := stages[0], stages[1]
	assert.Regexp(t, `^(--platform=\S+ )?golang:1\.26 AS build$`, build[0].args)
	var goBuild string
	for _, in := range build {
		if in.op == "RUN" && strings.Contains(in.args, "go build") {
			goBuild = in.args
		}
	}
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "-X main.version=", "./cmd/metrics-proxy"} {
		assert.Contains(t, goBuild, want)
	}

	assert.Regexp(t, `^gcr\.io/distroless/static(-debian\d+)?:nonroot$`, final[0].args)
	ops := map[string]string{}
	for _, in := range final[1:] {
		assert.NotEqual(t, "RUN", in.op, "the final image has no shell to run %q", in.args)
		ops[in.op] = in.args
	}
	assert.Equal(t, "--from=build /out/metrics-proxy /metrics-proxy", ops["COPY"])
	assert.Equal(t, `["/metrics-proxy"]`, ops["ENTRYPOINT"], "exec form: no shell")
	d, _ := deployment(t, kustomize(t, "base"))
	assert.Equal(t, "65532:65532", ops["USER"])
	assert.Equal(t, int64(65532), *d.Spec.Template.Spec.SecurityContext.RunAsUser)
	assert.Equal(t, "serve", d.Spec.Template.Spec.Containers[0].Args[0], "args follow the ENTRYPOINT")
}
