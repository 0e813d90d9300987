package inject

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/metrics-proxy/injector/webhook/names"
)

// Status is the value of the metrics-proxy.io/status annotation, as JSON.
type Status struct {
	// Version is the version of the injector that injected the DaemonSet.
	Version string `json:"version"`
	// Hash is a hash of everything the injector set: container, volume, toleration, host network.
	Hash string `json:"hash"`
}

// statusOf computes the status annotation of an injected DaemonSet.
func statusOf(ds *appsv1.DaemonSet, version string) (string, error) {
	spec := &ds.Spec.Template.Spec
	injected := struct {
		Container   *corev1.Container `json:"container"`
		Volume      *corev1.Volume    `json:"volume"`
		HostNetwork bool              `json:"hostNetwork"`
		DNSPolicy   corev1.DNSPolicy  `json:"dnsPolicy"`
		Toleration  corev1.Toleration `json:"toleration"`
		// Present only with a TLS frontend, so that the hash of a proxy without one is unchanged.
		CertInit   *corev1.Container `json:"certInit,omitempty"`
		CertVolume *corev1.Volume    `json:"certVolume,omitempty"`
	}{
		Container:   findContainer(spec.Containers),
		Volume:      findVolume(spec.Volumes),
		HostNetwork: spec.HostNetwork,
		DNSPolicy:   spec.DNSPolicy,
		Toleration:  Toleration(),
		CertInit:    findInit(spec.InitContainers),
		CertVolume:  findCertVolume(spec.Volumes),
	}
	data, err := json.Marshal(injected)
	if err != nil {
		return "", fmt.Errorf("hash injected spec: %w", err)
	}
	sum := sha256.Sum256(data)
	out, err := json.Marshal(Status{Version: version, Hash: hex.EncodeToString(sum[:8])})
	if err != nil {
		return "", fmt.Errorf("encode status: %w", err)
	}
	return string(out), nil
}

// findContainer returns the haproxy container of cs, or nil.
func findContainer(cs []corev1.Container) *corev1.Container {
	for i := range cs {
		if cs[i].Name == names.ContainerName {
			return &cs[i]
		}
	}
	return nil
}

// findVolume returns the config volume of vs, or nil.
func findVolume(vs []corev1.Volume) *corev1.Volume {
	for i := range vs {
		if vs[i].Name == names.VolumeName {
			return &vs[i]
		}
	}
	return nil
}

// StatusMatches reports whether ds's status annotation is a record the injector could have
// written for ds as it stands: it decodes and its hash is the hash of what the
// injector owns in ds's spec (the haproxy container, the config volume, the host network, the
// DNS policy, the toleration, the TLS init container and volume). A hand-written annotation, or
// one the spec no longer matches (the injected parts were edited since), does not.
func StatusMatches(ds *appsv1.DaemonSet) bool {
	raw, ok := ds.Annotations[names.StatusAnnotation]
	if !ok {
		return false
	}
	var stored Status
	if json.Unmarshal([]byte(raw), &stored) != nil || stored.Hash == "" {
		return false
	}
	now, err := statusOf(ds, stored.Version)
	if err != nil {
		return false
	}
	var st Status
	return json.Unmarshal([]byte(now), &st) == nil && st.Hash == stored.Hash
}
