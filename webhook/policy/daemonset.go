package policy

import (
	"fmt"
	"path"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/metrics-proxy/injector/webhook/names"
)

// podSpecPath is the field path of a DaemonSet's pod spec.
const podSpecPath = "spec.template.spec"

// ValidateDaemonSet checks a proxy DaemonSet against the policy (nil: Default()):
//
//   - the pod runs on the host network (RuleHostNetwork);
//   - it has a container named haproxy (RuleProxyContainer) whose image the policy allows
//     (RuleImage), which sets neither command nor args (RuleContainerCommand: the image's
//     entrypoint reads /usr/local/etc/haproxy/haproxy.cfg, and any command or args could add
//     -f FILE, -- FILE... or replace the entrypoint, so none is allowed), and whose last NODE_IP
//     env entry comes from fieldRef status.hostIP (RuleNodeIPEnv), and which sets none of the
//     fields injection never writes: env but NODE_IP, envFrom, lifecycle hooks, exec probes,
//     workingDir, mounts but its config and certificate (RuleContainerFields);
//   - the container mounts exactly one volume at /usr/local/etc/haproxy, without subPath and with
//     no other mount below it, and that volume is a configMap volume that projects the
//     ConfigMap's haproxy.cfg key to haproxy.cfg and nothing else (RuleConfigVolume);
//   - every other container and init container is one the policy's AllowedContainers lists by
//     name and image (RuleOtherContainer).
//
// It does not look the ConfigMap up: it returns the name of the ConfigMap the config directory
// mounts (empty when there is none) so that the caller can fetch it and check its haproxy.cfg
// with ValidateConfig. Violations carry field paths as Source and line 0.
func ValidateDaemonSet(ds *appsv1.DaemonSet, p *Policy) (configMap string, violations []Violation) {
	if p == nil {
		p = Default()
	}
	var vs []Violation
	add := func(source string, rule RuleID, format string, args ...any) {
		vs = append(vs, Violation{Source: source, Rule: rule, Message: fmt.Sprintf(format, args...)})
	}
	if ds == nil {
		add("spec", RuleProxyContainer, "no DaemonSet")
		return "", vs
	}
	spec := &ds.Spec.Template.Spec
	if !spec.HostNetwork {
		add(podSpecPath+".hostNetwork", RuleHostNetwork, "hostNetwork is false: the pod does not own the node's IP that haproxy binds; want true")
	}
	idx := -1
	for i := range spec.Containers {
		if spec.Containers[i].Name == names.ContainerName {
			idx = i
			break
		}
	}
	if idx < 0 {
		add(podSpecPath+".containers", RuleProxyContainer, "no container named %s", names.ContainerName)
		return "", vs
	}
	checkOtherContainers(spec, p, add)
	c := &spec.Containers[idx]
	cpath := fmt.Sprintf("%s.containers[%d]", podSpecPath, idx)
	if !p.ImageAllowed(c.Image) {
		add(cpath+".image", RuleImage, "image %q matches none of the allowed images (%s)", c.Image, strings.Join(p.images(), ", "))
	}
	if len(c.Command) > 0 {
		add(cpath+".command", RuleContainerCommand, "command %q is set: it could point haproxy at another config; leave command unset", c.Command)
	}
	if len(c.Args) > 0 {
		add(cpath+".args", RuleContainerCommand, "args %q are set: they could point haproxy at another config (-f, --); leave args unset", c.Args)
	}
	checkNodeIP(c, cpath, add)
	checkHaproxyFields(c, cpath, add) // containerfields.go
	configMap = checkConfigVolume(spec, c, cpath, add)
	return configMap, vs
}

// checkNodeIP checks that the last NODE_IP entry of the container's env is the node's IP.
func checkNodeIP(c *corev1.Container, cpath string, add func(string, RuleID, string, ...any)) {
	last := -1
	for i, e := range c.Env {
		if e.Name == names.NodeIPEnv {
			last = i
		}
	}
	if last < 0 {
		add(cpath+".env", RuleNodeIPEnv, "no %s env: haproxy binds ${%s}, and an unset %s makes it listen on 0.0.0.0; want valueFrom.fieldRef.fieldPath status.hostIP", names.NodeIPEnv, names.NodeIPEnv, names.NodeIPEnv)
		return
	}
	e := c.Env[last]
	ref := (*corev1.ObjectFieldSelector)(nil)
	if e.ValueFrom != nil {
		ref = e.ValueFrom.FieldRef
	}
	if e.Value != "" || ref == nil || ref.FieldPath != "status.hostIP" || (ref.APIVersion != "" && ref.APIVersion != "v1") {
		add(fmt.Sprintf("%s.env[%d]", cpath, last), RuleNodeIPEnv, "env %s is not taken from the node's IP: an empty or other value makes haproxy listen elsewhere (0.0.0.0 when empty); want valueFrom.fieldRef.fieldPath status.hostIP", names.NodeIPEnv)
	}
}

// checkConfigVolume checks the mount of the config directory and returns the ConfigMap it
// mounts.
func checkConfigVolume(spec *corev1.PodSpec, c *corev1.Container, cpath string, add func(string, RuleID, string, ...any)) string {
	mount := -1
	for i, m := range c.VolumeMounts {
		mpath := fmt.Sprintf("%s.volumeMounts[%d]", cpath, i)
		switch clean := path.Clean(m.MountPath); {
		case clean == names.ConfigDir && mount >= 0:
			add(mpath+".mountPath", RuleConfigVolume, "the config directory %s is mounted twice; mount it once", names.ConfigDir)
		case clean == names.ConfigDir:
			mount = i
			if m.SubPath != "" || m.SubPathExpr != "" {
				add(mpath, RuleConfigVolume, "the config directory is mounted with a subPath; mount the whole ConfigMap volume")
			}
		case strings.HasPrefix(clean, names.ConfigDir+"/"):
			add(mpath+".mountPath", RuleConfigVolume, "a mount at %s sits inside the config directory and can replace haproxy.cfg", m.MountPath)
		}
	}
	if mount < 0 {
		add(cpath+".volumeMounts", RuleConfigVolume, "nothing is mounted at %s, where haproxy reads its config; mount the ConfigMap volume there", names.ConfigDir)
		return ""
	}
	name := c.VolumeMounts[mount].Name
	for j, vol := range spec.Volumes {
		if vol.Name != name {
			continue
		}
		vpath := fmt.Sprintf("%s.volumes[%d]", podSpecPath, j)
		if vol.ConfigMap == nil {
			add(vpath, RuleConfigVolume, "volume %s, mounted at %s, is not a configMap volume; the validator can only check a ConfigMap's %s", name, names.ConfigDir, names.ConfigKey)
			return ""
		}
		checkItems(vol.ConfigMap.Items, vpath, add)
		return vol.ConfigMap.Name
	}
	add(fmt.Sprintf("%s.volumeMounts[%d].name", cpath, mount), RuleConfigVolume, "no volume named %s", name)
	return ""
}

// checkItems checks that a config volume projects the haproxy.cfg key to haproxy.cfg and no other
// key: any other file in the config directory is a config nobody validated.
func checkItems(items []corev1.KeyToPath, vpath string, add func(string, RuleID, string, ...any)) {
	if len(items) == 0 {
		add(vpath+".configMap.items", RuleConfigVolume, "the volume projects every key of the ConfigMap; project only %s (items: [{key: %s, path: %s}])", names.ConfigKey, names.ConfigKey, names.ConfigKey)
		return
	}
	for k, item := range items {
		ipath := fmt.Sprintf("%s.configMap.items[%d]", vpath, k)
		switch {
		case path.Clean(item.Path) == names.ConfigKey && item.Key != names.ConfigKey:
			add(ipath, RuleConfigVolume, "key %q is projected to %s: haproxy would read another key than the one validated; project %s to %s", item.Key, names.ConfigKey, names.ConfigKey, names.ConfigKey)
		case item.Key != names.ConfigKey || item.Path != names.ConfigKey:
			add(ipath, RuleConfigVolume, "key %q is projected to %q: project only %s to %s", item.Key, item.Path, names.ConfigKey, names.ConfigKey)
		}
	}
}

// checkOtherContainers reports every container and init container other than haproxy that the
// policy does not allow by name and image.
func checkOtherContainers(spec *corev1.PodSpec, p *Policy, add func(string, RuleID, string, ...any)) {
	check := func(field string, cs []corev1.Container) {
		for i, c := range cs {
			if field == "containers" && c.Name == names.ContainerName || p.ContainerAllowed(c.Name, c.Image) {
				if field == "initContainers" && c.Name == names.ProxyCertContainer {
					checkProxyCert(&cs[i], fmt.Sprintf("%s.%s[%d]", podSpecPath, field, i), add)       // frontendtls.go
					checkProxyCertFields(&cs[i], fmt.Sprintf("%s.%s[%d]", podSpecPath, field, i), add) // containerfields.go
				}
				continue
			}
			add(fmt.Sprintf("%s.%s[%d]", podSpecPath, field, i), RuleOtherContainer,
				"%s %q (image %q) is not the injected %s container and the policy's allowedContainers does not list it: a proxy pod runs haproxy and nothing else", strings.TrimSuffix(field, "s"), c.Name, c.Image, names.ContainerName)
		}
	}
	check("containers", spec.Containers)
	check("initContainers", spec.InitContainers)
}

// InjectLabelRemoved returns a violation when an update from old to ds removes the label
// metrics-proxy.io/inject=true, or sets it to a value other than "true" or "false" (which no
// webhook selects either), from a DaemonSet the injector completed (ds carries the status
// annotation): outside namespaces with injection enabled the webhooks select DaemonSets by that
// label, so the proxy's later writes would reach none of them while every reader still counts it
// as a proxy. Setting the label to "false" (the opt-out) is no removal. old may be nil (a create).
func InjectLabelRemoved(old, ds *metav1.ObjectMeta) *Violation {
	if old == nil || old.Labels[names.InjectLabel] != "true" {
		return nil
	}
	if v := ds.Labels[names.InjectLabel]; v == "true" || v == "false" {
		return nil // kept, or the opt-out; any other value selects it no more than none
	}
	if _, injected := ds.Annotations[names.StatusAnnotation]; !injected {
		return nil
	}
	return &Violation{Source: "daemonset/" + ds.Name + ".metadata.labels", Rule: RuleInjectLabel,
		Message: fmt.Sprintf("the label %s=true is removed from an injected proxy (or set to a value other than \"true\" or \"false\"): its later writes would reach no webhook "+
			"while it stays a proxy; set it to \"false\" to opt out (the injector then leaves it), or keep it", names.InjectLabel)}
}
