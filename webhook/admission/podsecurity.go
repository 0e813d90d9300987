package admission

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
)

// podSecurityEnforceLabel is the Pod Security Admission label that rejects non-compliant pods.
const podSecurityEnforceLabel = "pod-security.kubernetes.io/enforce"

// podSecurityWarning returns a warning when namespace enforces a Pod Security level that forbids
// hostNetwork (baseline and restricted do): the DaemonSet is admitted, but its pods never will be.
// The lookup is bounded by AdvisoryTimeout; a failed or late lookup is logged and yields no
// warning: the warning is advice, never a reason to deny or to wait.
func podSecurityWarning(ctx context.Context, namespaces client.Reader, namespace string) string {
	if namespaces == nil || namespace == "" {
		return ""
	}
	// Only the labels matter: a metadata-only read keeps the server's cache small.
	ns := metav1.PartialObjectMetadata{}
	ns.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Namespace"))
	err := bounded(ctx, AdvisoryTimeout, "get namespace "+namespace, func(ctx context.Context) error {
		return namespaces.Get(ctx, client.ObjectKey{Name: namespace}, &ns)
	})
	if err != nil {
		log.FromContext(ctx).Info("Pod Security warning skipped: the namespace could not be read", "namespace", namespace, "error", err.Error())
		return ""
	}
	level := ns.Labels[podSecurityEnforceLabel]
	if level != "baseline" && level != "restricted" {
		return ""
	}
	return fmt.Sprintf("metrics-proxy: namespace %q enforces Pod Security level %q, which forbids hostNetwork: "+
		"the proxy pods will be rejected; run the proxy in a namespace labelled %s=privileged",
		namespace, level, podSecurityEnforceLabel)
}
