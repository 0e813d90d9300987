package names

// Labels and annotations of the public API. Every name carries the metrics-proxy.io/ prefix.
const (
	// Prefix starts every label and annotation of ours.
	Prefix = "metrics-proxy.io/"
	// NamespaceInjectionLabel enables injection for every DaemonSet of a namespace when "enabled".
	NamespaceInjectionLabel = "metrics-proxy.io/injection"
	// InjectLabel on a DaemonSet opts in ("true") from any namespace or out ("false").
	InjectLabel = "metrics-proxy.io/inject"
	// ComponentsAnnotation lists the components to proxy, as a comma list; default all.
	ComponentsAnnotation = "metrics-proxy.io/components"
	// ConfigMapAnnotation names the ConfigMap that holds haproxy.cfg; default DefaultConfigMap.
	ConfigMapAnnotation = "metrics-proxy.io/config-map"
	// ImageAnnotation overrides the proxy image.
	ImageAnnotation = "metrics-proxy.io/image"
	// StatusAnnotation records what the injector injected: its version and a hash of the result.
	StatusAnnotation = "metrics-proxy.io/status"
	// ConfigLabel with value ConfigLabelValue marks a ConfigMap as a proxy config.
	ConfigLabel = "metrics-proxy.io/config"
	// ConfigLabelValue is the only value of ConfigLabel.
	ConfigLabelValue = "haproxy"
)

// Names of the objects and fields the injector owns.
const (
	// DefaultImage is the proxy image when neither the DaemonSet nor serve names another: the
	// official HAProxy image of the 3.0 LTS branch (fixes until 2029, Debian 13's version; the
	// policy's grammar is proven on it and on 2.6). The seed
	// procedure's image, SeedImage, ships HAProxy 2.5.8 (CVE-2023-25725).
	DefaultImage = "haproxy:3.0"
	// SeedImage is the proxy image the seed procedure names (HAProxy 2.5.8, past its end of life).
	SeedImage = "public.ecr.aws/eks-anywhere/kubernetes-sigs/kind/haproxy:v0.20.0-eks-a-54"
	// DedicatedNamespace is the namespace render puts the proxies in by default: one that holds
	// nothing but them, so that enabling injection there turns no other DaemonSet into a proxy.
	DedicatedNamespace = "metrics-proxies"
	// DefaultConfigMap is the ConfigMap the proxy reads when no annotation names another.
	DefaultConfigMap = "metrics-proxy"
	// ContainerName is the name of the injected container.
	ContainerName = "haproxy"
	// VolumeName is the name of the injected config volume.
	VolumeName = "haproxy-config"
	// ConfigKey is the ConfigMap key that holds the HAProxy configuration.
	ConfigKey = "haproxy.cfg"
	// ConfigDir is where the proxy container mounts its configuration, read-only.
	ConfigDir = "/usr/local/etc/haproxy"
	// NodeIPEnv is the environment variable HAProxy binds on; it comes from status.hostIP.
	NodeIPEnv = "NODE_IP"
	// ControlPlaneTaint is the taint key of control-plane nodes that the proxy tolerates.
	ControlPlaneTaint = "node-role.kubernetes.io/control-plane"
)

// Day-two names: what the controller inside `serve` writes.
const (
	// ConfigHashAnnotation on a proxy's pod template is a hash of the haproxy.cfg it mounts: the
	// injector sets it, the rollout controller keeps it current, and a change rolls the pods.
	ConfigHashAnnotation = "metrics-proxy.io/config-hash"
	// AuditAnnotation on a DaemonSet is the audit's latest findings about it, as JSON; written
	// through the status subresource, so it never goes through admission nor rolls the pods.
	AuditAnnotation = "metrics-proxy.io/audit"
)
