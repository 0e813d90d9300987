package inject

// Labels a stub without any selector gets, on the selector and on the pod template.
const (
	appNameLabel     = "app.kubernetes.io/name"
	appInstanceLabel = "app.kubernetes.io/instance"
	appName          = "metrics-proxy"
)
