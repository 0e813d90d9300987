package harness

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// KubectlTimeout bounds every kubectl run.
const KubectlTimeout = 30 * time.Second

// Kubectl runs the real kubectl against the control plane with stdin and returns what it printed.
// A non-zero exit is an error carrying kubectl's stderr; stderr is returned either way (warnings).
func (cp *ControlPlane) Kubectl(ctx context.Context, stdin string, args ...string) (stdout, stderr string, err error) {
	return RunKubectl(ctx, KubectlTimeout, cp.KubectlPath, cp.Kubeconfig, stdin, args...)
}

// RunKubectl runs the kubectl binary at path with kubeconfig, stdin and args, bounded by timeout,
// and returns what it printed. A non-zero exit is an error carrying kubectl's stderr; stderr is
// returned either way (warnings).
func RunKubectl(ctx context.Context, timeout time.Duration, path, kubeconfig, stdin string, args ...string) (stdout, stderr string, err error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, append([]string{"--kubeconfig", kubeconfig}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return out.String(), errOut.String(), fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(errOut.String()))
	}
	return out.String(), errOut.String(), nil
}
