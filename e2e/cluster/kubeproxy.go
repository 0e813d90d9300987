//go:build linux

package cluster

import (
	"context"
	"fmt"
	"time"

	"github.com/metrics-proxy/injector/e2e/image"
)

// kubeProxyYAML is kube-proxy as kubeadm installs it: a DaemonSet of kube-system on every node
// (hostNetwork, privileged, iptables mode), its configuration in a ConfigMap, its metrics on
// the node's 127.0.0.1:10249. The conntrack settings are left alone: they are machine-wide.
func kubeProxyYAML(apiServer string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: ServiceAccount
metadata: {name: kube-proxy, namespace: kube-system}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: kubeadm:node-proxier}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: system:node-proxier}
subjects: [{kind: ServiceAccount, name: kube-proxy, namespace: kube-system}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: kube-proxy, namespace: kube-system, labels: {app: kube-proxy}}
data:
  config.conf: |
    apiVersion: kubeproxy.config.k8s.io/v1alpha1
    kind: KubeProxyConfiguration
    clientConnection: {kubeconfig: /var/lib/kube-proxy/kubeconfig.conf}
    mode: iptables
    clusterCIDR: 198.19.96.0/19
    metricsBindAddress: 127.0.0.1:10249
    healthzBindAddress: 0.0.0.0:10256
    conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s, udpTimeout: 0s, udpStreamTimeout: 0s}
  kubeconfig.conf: |
    apiVersion: v1
    kind: Config
    clusters: [{name: default, cluster: {server: %q, certificate-authority: /var/run/secrets/kubernetes.io/serviceaccount/ca.crt}}]
    contexts: [{name: default, context: {cluster: default, namespace: default, user: default}}]
    current-context: default
    users: [{name: default, user: {tokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token}}]
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: kube-proxy, namespace: kube-system, labels: {k8s-app: kube-proxy}}
spec:
  selector: {matchLabels: {k8s-app: kube-proxy}}
  template:
    metadata: {labels: {k8s-app: kube-proxy}}
    spec:
      priorityClassName: system-node-critical
      hostNetwork: true
      serviceAccountName: kube-proxy
      nodeSelector: {kubernetes.io/os: linux}
      tolerations: [{operator: Exists}]
      containers:
      - name: kube-proxy
        image: %s
        command: [/usr/local/bin/kube-proxy, --config=/var/lib/kube-proxy/config.conf, --hostname-override=$(NODE_NAME)]
        env:
        - name: NODE_NAME
          valueFrom: {fieldRef: {fieldPath: spec.nodeName}}
        securityContext: {privileged: true}
        volumeMounts: [{name: kube-proxy, mountPath: /var/lib/kube-proxy}]
      volumes:
      - name: kube-proxy
        configMap: {name: kube-proxy}
`, apiServer, image.KubeProxyRef)
}

// startKubeProxy applies kube-proxy's DaemonSet and waits until it serves its metrics on every
// node's 127.0.0.1:10249.
func (c *Cluster) startKubeProxy(ctx context.Context) error {
	if _, _, err := c.Kubectl(ctx, kubeProxyYAML(c.APIServer), "apply", "-f", "-"); err != nil {
		return err
	}
	for _, n := range c.Nodes {
		err := poll(ctx, 2*time.Minute, nil, func(ctx context.Context) error {
			_, err := n.Run(ctx, "curl", "-fsS", "--max-time", "2", "-o", "/dev/null", "http://127.0.0.1:10249/metrics")
			return err
		})
		if err != nil {
			return fmt.Errorf("kube-proxy on %s: metrics on 127.0.0.1:10249: %w", n.Name, err)
		}
	}
	return nil
}
