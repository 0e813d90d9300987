package admission

import (
	"context"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/metrics-proxy/injector/webhook/policy"
)

// The verdict cache: the validating handler of DaemonSets reads the ConfigMap a proxy mounts
// from the API server and validates its haproxy.cfg on every review, the one API read and the
// most work of the full admission path. A VerdictCache remembers, per ConfigMap, the identity
// (uid and resourceVersion) of the last version the handler found compliant, with the rest of its
// DaemonSet, under the policy in force. A later review of a DaemonSet in a namespace with
// injection enabled reads the mounted ConfigMap's identity from the config-hash cache and, when
// it is that version under the same policy, does not read or validate it again. Anything else is
// read live: a ConfigMap the config-hash cache does not hold (not labelled, not there yet),
// another version, another policy, a DaemonSet outside the enabled namespaces.
//
// What it trusts: a uid and resourceVersion name one content, so a hit is a version this handler
// validated itself. The config-hash cache may trail the API server by the time a watch event
// takes, and the ConfigMap may have changed meanwhile, even been deleted and created again; in a
// namespace with injection enabled every write of a ConfigMap holding haproxy.cfg is validated,
// so the version the handler did not see passed the policy when it was written. (Outside them an
// unlabelled ConfigMap that no proxy mounts yet is not validated: there the handler always
// reads live.) A policy made stricter within that instant is the one window; the pod webhook,
// which reads and validates the ConfigMap live when each proxy pod is created, and the audit
// close it.

// DefaultVerdictCacheSize bounds the ConfigMaps a VerdictCache remembers: about 200 bytes
// each. Beyond it, it forgets them all and starts again (the cost is one live read each).
const DefaultVerdictCacheSize = 10000

// VerdictCache remembers the compliant versions of proxy ConfigMaps under one policy; safe for
// concurrent use. The zero value is not usable: see NewVerdictCache. A nil *VerdictCache
// remembers nothing.
type VerdictCache struct {
	mu     sync.Mutex
	policy *policy.Policy // the policy the verdicts hold under; held, so never reused while here
	ok     map[types.NamespacedName]configIdentity
	max    int
}

// configIdentity names one version of a ConfigMap.
type configIdentity struct {
	uid             types.UID
	resourceVersion string
}

// NewVerdictCache returns an empty VerdictCache holding at most size ConfigMaps (at least 1).
func NewVerdictCache(size int) *VerdictCache {
	return &VerdictCache{ok: map[types.NamespacedName]configIdentity{}, max: max(size, 1)}
}

// compliant reports whether the version uid/resourceVersion of the ConfigMap key was found
// compliant under p. Another policy than the verdicts' (the policy file reloaded) forgets them.
func (c *VerdictCache) compliant(p *policy.Policy, key types.NamespacedName, id configIdentity) bool {
	if c == nil || id.uid == "" || id.resourceVersion == "" {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.policy != p {
		return false
	}
	return c.ok[key] == id
}

// remember records that cm, as read from the API server, was found compliant under p.
func (c *VerdictCache) remember(p *policy.Policy, cm *corev1.ConfigMap) {
	if c == nil || cm.UID == "" || cm.ResourceVersion == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.policy != p {
		c.policy, c.ok = p, map[types.NamespacedName]configIdentity{}
	}
	key := types.NamespacedName{Namespace: cm.Namespace, Name: cm.Name}
	if _, ok := c.ok[key]; !ok && len(c.ok) >= c.max {
		c.ok = map[types.NamespacedName]configIdentity{}
	}
	c.ok[key] = configIdentity{uid: cm.UID, resourceVersion: cm.ResourceVersion}
}

// cachedIdentity reads the identity of the ConfigMap namespace/name from the config-hash cache,
// false when it does not hold it (see cachedConfig).
func cachedIdentity(ctx context.Context, hashes client.Reader, namespace, name string) (configIdentity, bool) {
	cm, ok := cachedConfig(ctx, hashes, namespace, name)
	if !ok {
		return configIdentity{}, false
	}
	return configIdentity{uid: cm.UID, resourceVersion: cm.ResourceVersion}, true
}
