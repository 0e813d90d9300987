package names

// Frontend TLS: which frontends terminate TLS and where their certificate comes from.
const (
	// TLSAnnotation on a DaemonSet or ConfigMap lists the components whose frontend terminates
	// TLS, as a comma list, or TLSNone; default the components whose upstream serves HTTPS
	// (kube-controller-manager, kube-scheduler: what kube-prometheus-stack scrapes over HTTPS).
	TLSAnnotation = "metrics-proxy.io/tls"
	// TLSNone is the TLSAnnotation value of the seed's all-HTTP proxy.
	TLSNone = "none"
	// TLSSecretAnnotation on a DaemonSet names a Secret (tls.crt, tls.key) the TLS frontends
	// serve instead of the per-node certificate the ProxyCertContainer makes at pod start.
	TLSSecretAnnotation = "metrics-proxy.io/tls-secret"
	// ProxyCertContainer is the init container, running the injector's image, that writes a
	// per-node key and certificate into the in-memory CertVolume.
	ProxyCertContainer = "proxy-cert"
	// CertVolume is the volume holding the frontend certificate: an in-memory emptyDir, or the
	// TLSSecretAnnotation's Secret.
	CertVolume = "frontend-cert"
	// CertDir is where the haproxy container (read-only) and the ProxyCertContainer mount
	// CertVolume.
	CertDir = "/run/metrics-proxy/tls"
	// CertFile is the PEM certificate every TLS frontend serves (bind ... ssl crt CertFile);
	// HAProxy reads its key from CertFile + ".key" (ssl-load-extra-files, on by default).
	CertFile = CertDir + "/frontend.pem"
	// DefaultInjectorImage is the metrics-proxy image the ProxyCertContainer runs when the
	// server is not told its own (deploy/base's placeholder).
	DefaultInjectorImage = "metrics-proxy:latest"
)

// The two proxy DaemonSets `metrics-proxy render` prints.
const (
	// ControlPlaneDaemonSet runs on control-plane nodes and proxies the components there.
	ControlPlaneDaemonSet = "metrics-proxy-control-plane"
	// NodesDaemonSet runs on every other node and proxies kube-proxy only.
	NodesDaemonSet = "metrics-proxy-nodes"
)
