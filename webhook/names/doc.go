// Package names holds the public names of metrics-proxy: the labels and annotations users write
// (every one with the metrics-proxy.io/ prefix) and the names of what the injector owns (the
// container, the config volume and key, the NODE_IP variable). Injection and policy both use them;
// nothing else lives here.
package names
