package admission

// HTTP paths of the webhooks; the webhook configurations in deploy/ name the same paths.
const (
	// MutateDaemonSetPath injects DaemonSets.
	MutateDaemonSetPath = "/mutate-apps-v1-daemonset"
	// MutateConfigMapPath fills stub proxy ConfigMaps.
	MutateConfigMapPath = "/mutate-v1-configmap"
	// ValidateDaemonSetPath validates proxy DaemonSets and the config they mount.
	ValidateDaemonSetPath = "/validate-apps-v1-daemonset"
	// ValidateConfigMapPath validates proxy configs.
	ValidateConfigMapPath = "/validate-v1-configmap"
	// ValidatePodPath validates the ConfigMaps the pods of proxy DaemonSets mount.
	ValidatePodPath = "/validate-v1-pod"
)
