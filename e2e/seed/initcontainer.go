package seed

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/metrics-proxy/injector/webhook/names"
)

// InitTimeout bounds an init container's run.
const InitTimeout = 30 * time.Second

// runInit runs the pod's init containers in order, as the kubelet does before the containers:
// only the injector's proxy-cert, whose image's entrypoint is metrics-proxy (k.metricsProxy here),
// with its environment, its $(VAR) arguments expanded and its mounts in a namespace of its own.
// It returns what they printed.
func (k *kubelet) runInit(ctx context.Context, pod *corev1.Pod, hostIP string) error {
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		if c.Name != names.ProxyCertContainer || len(c.Command) > 0 {
			return fmt.Errorf("init container %s: this kubelet runs only the injector's %s (the metrics-proxy image's entrypoint)", c.Name, names.ProxyCertContainer)
		}
		if k.metricsProxy == "" {
			return fmt.Errorf("init container %s: no metrics-proxy binary to run", c.Name)
		}
		env, err := resolveEnv(c.Env, pod, hostIP)
		if err != nil {
			return fmt.Errorf("init container %s: %w", c.Name, err)
		}
		mounts, err := k.mountVolumes(ctx, pod, c)
		if err != nil {
			return fmt.Errorf("init container %s: %w", c.Name, err)
		}
		var ms []mount
		for _, m := range c.VolumeMounts {
			ms = append(ms, mount{host: mounts[m.MountPath], path: m.MountPath, readOnly: m.ReadOnly})
		}
		if os.Geteuid() != 0 {
			return fmt.Errorf("init container %s: playing its mounts needs root", c.Name)
		}
		args := expandArgs(c.Args, env)
		path, argv, err := inNamespace(ms, containerUser(c), filepath.Join(k.dir, "ns-"+c.Name), k.metricsProxy, args)
		if err != nil {
			return fmt.Errorf("init container %s: %w", c.Name, err)
		}
		p, err := startProcess(c.Name, path, argv, append([]string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}, env...), nil)
		if err != nil {
			return err
		}
		select {
		case <-p.done:
		case <-time.After(InitTimeout):
			p.stop()
			return fmt.Errorf("init container %s: still running after %s: %s", c.Name, InitTimeout, p.out.String())
		case <-ctx.Done():
			p.stop()
			return ctx.Err()
		}
		if !p.cmd.ProcessState.Success() {
			return fmt.Errorf("init container %s (metrics-proxy %s): %s: %s", c.Name, strings.Join(args, " "), p.cmd.ProcessState, p.out.String())
		}
		k.initOutput = append(k.initOutput, fmt.Sprintf("%s: metrics-proxy %s -> %s", c.Name, strings.Join(args, " "), p.out.String()))
	}
	return nil
}

// varRef is a $(VAR) reference in a container's arguments.
var varRef = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

// expandArgs expands $(VAR) from env (NAME=value entries) as the kubelet does; an unknown
// reference stays as written.
func expandArgs(args, env []string) []string {
	vars := map[string]string{}
	for _, e := range env {
		if k, v, ok := strings.Cut(e, "="); ok {
			vars[k] = v
		}
	}
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = varRef.ReplaceAllStringFunc(a, func(ref string) string {
			if v, ok := vars[ref[2:len(ref)-1]]; ok {
				return v
			}
			return ref
		})
	}
	return out
}

// containerUser is the container's runAsUser and runAsGroup (the user's id when no group), or
// nil when it sets no user.
func containerUser(c *corev1.Container) *[2]int64 {
	if c.SecurityContext == nil || c.SecurityContext.RunAsUser == nil {
		return nil
	}
	u := [2]int64{*c.SecurityContext.RunAsUser, *c.SecurityContext.RunAsUser}
	if c.SecurityContext.RunAsGroup != nil {
		u[1] = *c.SecurityContext.RunAsGroup
	}
	return &u
}
