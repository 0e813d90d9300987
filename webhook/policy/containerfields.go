package policy

import (
	"fmt"
	"path"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/metrics-proxy/injector/webhook/names"
)

// What runs in a proxy's containers beside the config: injection rebuilds the haproxy container
// and the proxy-cert init container and writes none of the fields below, so the validator, which
// stands alone wherever no injection runs (a proxy the injector completed earlier whose namespace
// lost injection, `metrics-proxy validate` in a pipeline, the audit), refuses each of them
// (RuleContainerFields). Each could run a process nobody validated on the host network, or
// change what the image's entrypoint runs: a lifecycle hook or exec probe (`haproxy -f` on
// another file), an env such as LD_PRELOAD or one from envFrom, a mount over the image's
// binaries or libraries, another working directory, an init container made a sidecar.

// checkHaproxyFields checks the fields of the haproxy container c (at cpath) that injection never
// writes: env only NODE_IP, no envFrom, no lifecycle, no workingDir, mounts only at the config
// directory (checked by checkConfigVolume) and the certificate directory, probes that the kubelet
// runs from outside the container (httpGet, tcpSocket, grpc: injection keeps a user's) aimed at
// the pod itself.
func checkHaproxyFields(c *corev1.Container, cpath string, add func(string, RuleID, string, ...any)) {
	checkRunFields(c, cpath, add)
	for i, m := range c.VolumeMounts {
		clean := path.Clean(m.MountPath)
		if clean == names.ConfigDir || strings.HasPrefix(clean, names.ConfigDir+"/") {
			continue // checkConfigVolume's
		}
		if clean == names.CertDir && m.Name == names.CertVolume && m.SubPath == "" && m.SubPathExpr == "" {
			continue
		}
		add(fmt.Sprintf("%s.volumeMounts[%d]", cpath, i), RuleContainerFields,
			"volume %s is mounted at %s: the haproxy container mounts only its config at %s and its certificate at %s; another mount could replace the image's programs or libraries",
			m.Name, m.MountPath, names.ConfigDir, names.CertDir)
	}
	for _, p := range []struct {
		field string
		probe *corev1.Probe
	}{{"readinessProbe", c.ReadinessProbe}, {"livenessProbe", c.LivenessProbe}, {"startupProbe", c.StartupProbe}} {
		if p.probe == nil {
			continue
		}
		switch {
		case p.probe.Exec != nil:
			add(cpath+"."+p.field+".exec", RuleContainerFields,
				"an exec probe runs a command inside the proxy container, on the host network: use httpGet or tcpSocket on a proxied port")
		case p.probe.HTTPGet != nil && p.probe.HTTPGet.Host != "" || p.probe.TCPSocket != nil && p.probe.TCPSocket.Host != "":
			add(cpath+"."+p.field, RuleContainerFields, "a probe aimed at another host: probe the pod itself (leave host unset)")
		}
	}
}

// checkProxyCertFields checks the fields of the proxy-cert init container c (at cpath) that
// injection never writes: env only NODE_IP, no envFrom, lifecycle, probes, workingDir or
// restartPolicy (a sidecar would keep running). Its mounts and command are checkProxyCert's.
func checkProxyCertFields(c *corev1.Container, cpath string, add func(string, RuleID, string, ...any)) {
	checkRunFields(c, cpath, add)
	if c.ReadinessProbe != nil || c.LivenessProbe != nil || c.StartupProbe != nil {
		add(cpath, RuleContainerFields, "init container %s has a probe: injection writes none", c.Name)
	}
	if c.RestartPolicy != nil {
		add(cpath+".restartPolicy", RuleContainerFields, "init container %s has a restartPolicy: it runs once, before haproxy, as injection writes it", c.Name)
	}
}

// checkRunFields checks what both injected containers leave unset: env but NODE_IP, envFrom,
// lifecycle and workingDir.
func checkRunFields(c *corev1.Container, cpath string, add func(string, RuleID, string, ...any)) {
	for i, e := range c.Env {
		if e.Name != names.NodeIPEnv {
			add(fmt.Sprintf("%s.env[%d]", cpath, i), RuleContainerFields,
				"env %s is set: container %s takes %s alone (another variable, LD_PRELOAD say, changes what its program runs)", e.Name, c.Name, names.NodeIPEnv)
		}
	}
	if len(c.EnvFrom) > 0 {
		add(cpath+".envFrom", RuleContainerFields, "envFrom is set: container %s takes %s alone", c.Name, names.NodeIPEnv)
	}
	if c.Lifecycle != nil && (c.Lifecycle.PostStart != nil || c.Lifecycle.PreStop != nil) {
		add(cpath+".lifecycle", RuleContainerFields, "lifecycle hooks are set: a hook runs a command or a request nobody validated; remove them")
	}
	if c.WorkingDir != "" {
		add(cpath+".workingDir", RuleContainerFields, "workingDir is set: it changes the files container %s reads by relative path; leave it unset", c.Name)
	}
}
