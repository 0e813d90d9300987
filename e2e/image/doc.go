// Package image builds container images from files of this machine without Docker or a registry:
// a single-layer image (go-containerregistry) written as an OCI image-layout archive that
// `ctr images import` loads and the kubelet then runs with the image never pulled. The real-node
// cluster (e2e/cluster) builds its images with it, and `make image` builds the metrics-proxy image.
//
// Binaries bring the shared libraries `ldd` lists (Debian's haproxy, iptables); static Go
// binaries come alone. Layers are reproducible: fixed owner, mode and time.
package image
