package seed

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"

	"github.com/metrics-proxy/injector/webhook/names"
)

// ListenTimeout bounds how long the proxy may take to listen on its ports.
const ListenTimeout = 10 * time.Second

// kubelet plays, openly and minimally, the kubelet of one node for one pod's haproxy container:
// it resolves the container's environment as the kubelet would (status.hostIP is the node's
// InternalIP: the pod is on the host network), writes the ConfigMap volumes it mounts into
// directories, runs the real haproxy, as the image does, on the config path mapped into those
// directories, and reports the pod Running and Ready. It does not pull the image: haproxy is the
// distribution's.
type kubelet struct {
	cs      kubernetes.Interface
	haproxy string
	// metricsProxy is the metrics-proxy binary that stands for the image of the proxy-cert init
	// container (its entrypoint).
	metricsProxy string
	// dir holds one directory per mounted volume.
	dir string
	// initOutput is what the init containers printed, one entry each.
	initOutput []string
}

// running is a container the kubelet started.
type running struct {
	proc   *process
	env    []string
	config string
	argv   []string
	// mounts are the mounts made in the container's mount namespace; init what the init
	// container printed.
	mounts []mount
	init   string
	// user is "uid:gid" when the container's user was applied, else "".
	user string
}

// start runs the pod's haproxy container on node and waits until it listens on every container
// port at the node's address.
func (k *kubelet) start(ctx context.Context, pod *corev1.Pod, node *corev1.Node) (*running, error) {
	hostIP, err := internalIP(node)
	if err != nil {
		return nil, err
	}
	c, err := proxyContainer(pod)
	if err != nil {
		return nil, err
	}
	if len(c.Command)+len(c.Args) > 0 {
		return nil, fmt.Errorf("container %s sets command or args; this kubelet runs only the image's haproxy", c.Name)
	}
	env, err := resolveEnv(c.Env, pod, hostIP)
	if err != nil {
		return nil, err
	}
	if err := k.runInit(ctx, pod, hostIP); err != nil {
		return nil, err
	}
	mounts, err := k.mountVolumes(ctx, pod, c)
	if err != nil {
		return nil, err
	}
	cfgDir, ok := mounts[names.ConfigDir]
	if !ok {
		return nil, fmt.Errorf("container %s mounts nothing at %s", c.Name, names.ConfigDir)
	}
	r := &running{env: env, config: filepath.Join(cfgDir, names.ConfigKey)}
	r.argv = []string{"-db", "-f", r.config}
	// The config directory is mapped (haproxy -f names it on the host); any other mount, the
	// frontend certificate at its absolute path, is mounted in a namespace of the container's own.
	var others []mount
	for _, m := range c.VolumeMounts {
		if m.MountPath != names.ConfigDir {
			others = append(others, mount{host: mounts[m.MountPath], path: m.MountPath, readOnly: m.ReadOnly})
		}
	}
	path, argv := k.haproxy, r.argv
	attr := &syscall.SysProcAttr{}
	user := containerUser(c)
	if len(others) > 0 {
		if os.Geteuid() != 0 {
			return nil, fmt.Errorf("container %s mounts %s: playing that mount needs root", c.Name, others[0].path)
		}
		if path, argv, err = inNamespace(others, user, filepath.Join(k.dir, "ns-"+c.Name), k.haproxy, r.argv); err != nil {
			return nil, err
		}
		r.mounts = others
	} else if os.Geteuid() == 0 && user != nil {
		attr.Credential = &syscall.Credential{Uid: uint32(user[0]), Gid: uint32(user[1]), NoSetGroups: true}
	}
	if user != nil && (len(others) > 0 || os.Geteuid() == 0) {
		r.user = fmt.Sprintf("%d:%d", user[0], user[1])
	}
	if r.proc, err = startProcess("haproxy", path, argv, append([]string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}, env...), attr); err != nil {
		return nil, err
	}
	var addrs []string
	for _, p := range c.Ports {
		addrs = append(addrs, net.JoinHostPort(hostIP, strconv.Itoa(int(p.ContainerPort))))
	}
	if err := waitListening(ctx, r.proc, ListenTimeout, addrs...); err != nil {
		r.proc.stop()
		return nil, err
	}
	if err := k.reportRunning(ctx, pod, c, hostIP); err != nil {
		r.proc.stop()
		return nil, err
	}
	return r, nil
}

// proxyContainer returns the pod's haproxy container.
func proxyContainer(pod *corev1.Pod) (*corev1.Container, error) {
	for i := range pod.Spec.Containers {
		if pod.Spec.Containers[i].Name == names.ContainerName {
			return &pod.Spec.Containers[i], nil
		}
	}
	return nil, fmt.Errorf("pod %s has no %s container", pod.Name, names.ContainerName)
}

// resolveEnv returns the container's environment as NAME=value, resolving the downward API
// fields a host-network pod can use; anything else is an error, not a guess.
func resolveEnv(vars []corev1.EnvVar, pod *corev1.Pod, hostIP string) ([]string, error) {
	var env []string
	for _, v := range vars {
		value := v.Value
		if v.ValueFrom != nil {
			if v.ValueFrom.FieldRef == nil {
				return nil, fmt.Errorf("env %s: only fieldRef is supported by this kubelet", v.Name)
			}
			switch f := v.ValueFrom.FieldRef.FieldPath; f {
			case "status.hostIP", "status.podIP":
				value = hostIP // a host-network pod's IP is its node's
			case "spec.nodeName":
				value = pod.Spec.NodeName
			case "metadata.name":
				value = pod.Name
			case "metadata.namespace":
				value = pod.Namespace
			default:
				return nil, fmt.Errorf("env %s: fieldRef %s is not supported by this kubelet", v.Name, f)
			}
		}
		env = append(env, v.Name+"="+value)
	}
	return env, nil
}

// mountVolumes writes each ConfigMap volume the container mounts into a directory of its own,
// readable by the container's user, with the keys the volume projects (all when it lists none),
// and returns the directory of each mount path.
func (k *kubelet) mountVolumes(ctx context.Context, pod *corev1.Pod, c *corev1.Container) (map[string]string, error) {
	mounts := map[string]string{}
	for _, m := range c.VolumeMounts {
		var vol *corev1.Volume
		for i := range pod.Spec.Volumes {
			if pod.Spec.Volumes[i].Name == m.Name {
				vol = &pod.Spec.Volumes[i]
			}
		}
		if vol != nil && vol.EmptyDir != nil {
			dir := filepath.Join(k.dir, m.Name) // the same directory for every container of the pod
			if err := os.MkdirAll(dir, 0o777); err != nil {
				return nil, fmt.Errorf("volume %s: %w", m.Name, err)
			}
			if err := os.Chmod(dir, 0o777); err != nil { // an emptyDir is world-writable
				return nil, fmt.Errorf("volume %s: %w", m.Name, err)
			}
			mounts[m.MountPath] = dir
			continue
		}
		if vol == nil || vol.ConfigMap == nil {
			return nil, fmt.Errorf("volume mount %s: only ConfigMap and emptyDir volumes are supported by this kubelet", m.Name)
		}
		cm, err := k.cs.CoreV1().ConfigMaps(pod.Namespace).Get(ctx, vol.ConfigMap.Name, metav1.GetOptions{})
		if err != nil {
			return nil, fmt.Errorf("volume %s: %w", m.Name, err)
		}
		files := map[string]string{}
		for key, value := range cm.Data {
			files[key] = value
		}
		if len(vol.ConfigMap.Items) > 0 {
			files = map[string]string{}
			for _, item := range vol.ConfigMap.Items {
				value, ok := cm.Data[item.Key]
				if !ok {
					return nil, fmt.Errorf("volume %s: ConfigMap %s has no key %s", m.Name, cm.Name, item.Key)
				}
				files[item.Path] = value
			}
		}
		dir := filepath.Join(k.dir, m.Name)
		if err := writeFiles(dir, files); err != nil {
			return nil, fmt.Errorf("volume %s: %w", m.Name, err)
		}
		mounts[m.MountPath] = dir
	}
	return mounts, nil
}

// writeFiles writes files (relative path to content) under dir, world-readable like a ConfigMap
// volume (the container does not run as this process's user).
func writeFiles(dir string, files map[string]string) error {
	for path, content := range files {
		if !filepath.IsLocal(path) {
			return fmt.Errorf("key path %q leaves the volume", path)
		}
		file := filepath.Join(dir, path)
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
			return err
		}
	}
	return os.Chmod(dir, 0o755)
}

// reportRunning sets the pod's status as the kubelet would once the container runs and is ready,
// on the pod as stored now (the scheduler and the daemonset controller write it too).
func (k *kubelet) reportRunning(ctx context.Context, pod *corev1.Pod, c *corev1.Container, hostIP string) error {
	now := metav1.Now()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		pod, err := k.cs.CoreV1().Pods(pod.Namespace).Get(ctx, pod.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		pod.Status.Phase = corev1.PodRunning
		pod.Status.HostIP, pod.Status.PodIP = hostIP, hostIP
		pod.Status.HostIPs = []corev1.HostIP{{IP: hostIP}}
		pod.Status.PodIPs = []corev1.PodIP{{IP: hostIP}}
		pod.Status.StartTime = &now
		for _, t := range []corev1.PodConditionType{corev1.PodScheduled, corev1.PodInitialized, corev1.ContainersReady, corev1.PodReady} {
			setCondition(&pod.Status, corev1.PodCondition{Type: t, Status: corev1.ConditionTrue, LastTransitionTime: now})
		}
		pod.Status.ContainerStatuses = []corev1.ContainerStatus{{
			Name: c.Name, Image: c.Image, ImageID: "distribution-haproxy", Ready: true, Started: ptr.To(true),
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}},
		}}
		_, err = k.cs.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, pod, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("pod %s status: %w", pod.Name, err)
	}
	return nil
}

func setCondition(s *corev1.PodStatus, c corev1.PodCondition) {
	for i := range s.Conditions {
		if s.Conditions[i].Type == c.Type {
			s.Conditions[i] = c
			return
		}
	}
	s.Conditions = append(s.Conditions, c)
}

// describe says what the kubelet ran, for the narration.
func (r *running) describe() string {
	user := "as this process's user"
	if r.user != "" {
		user = "as uid:gid " + r.user + " (the container's runAsUser and runAsGroup)"
	}
	var ns string
	for _, m := range r.mounts {
		ns += fmt.Sprintf("; %s mounted at %s in the container's own mount namespace", m.host, m.path)
	}
	return fmt.Sprintf("%s haproxy %s, pid %d, %s%s", strings.Join(r.env, " "), strings.Join(r.argv, " "), r.proc.Pid(), user, ns)
}
