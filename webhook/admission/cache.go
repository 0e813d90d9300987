package admission

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// IndexMountedConfigMaps is the cache's field index of DaemonSets by the name of every ConfigMap
// their pod template mounts (a configMap volume or a projected configMap source). The
// ConfigMap validator reads the proxies that may mount a ConfigMap through it: one indexed look-up
// in memory, where listing the namespace's DaemonSets from the API server cost each review a
// decode of all of them.
const IndexMountedConfigMaps = "metrics-proxy.mountedConfigMaps"

// MountedConfigMaps is the IndexMountedConfigMaps index function.
func MountedConfigMaps(obj client.Object) []string {
	ds, ok := obj.(*appsv1.DaemonSet)
	if !ok {
		return nil
	}
	var out []string
	for _, vol := range ds.Spec.Template.Spec.Volumes {
		if vol.ConfigMap != nil {
			out = append(out, vol.ConfigMap.Name)
		}
		if vol.Projected != nil {
			for _, src := range vol.Projected.Sources {
				if src.ConfigMap != nil {
					out = append(out, src.ConfigMap.Name)
				}
			}
		}
	}
	return out
}

// IndexDaemonSets adds the IndexMountedConfigMaps index to a cache, before it starts.
func IndexDaemonSets(ctx context.Context, indexer client.FieldIndexer) error {
	if err := indexer.IndexField(ctx, &appsv1.DaemonSet{}, IndexMountedConfigMaps, MountedConfigMaps); err != nil {
		return fmt.Errorf("index DaemonSets by mounted ConfigMap: %w", err)
	}
	return nil
}
