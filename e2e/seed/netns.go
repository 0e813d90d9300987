package seed

import (
	"fmt"
	"os"
	"os/exec"
)

// NetnsEnv marks a process that runs in the network namespace NetnsCommand made.
const NetnsEnv = "METRICS_PROXY_SEED_NETNS"

// The node addresses of the Prometheus proof, inside its network namespace: documentation-free
// benchmark addresses (RFC 2544) that exist nowhere else.
const (
	NetnsNodeIP   = "198.18.0.2"
	NetnsWorkerIP = "198.18.0.3"
)

// NetnsCommand returns cmd (this program again, typically) run in a new network namespace
// (unshare --net, root only), with NetnsEnv set so that the program knows to call NetnsSetup.
func NetnsCommand(name string, args ...string) (*exec.Cmd, error) {
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("a network namespace of the scenario's own needs root")
	}
	cmd := exec.Command("unshare", append([]string{"--net", "--", name}, args...)...)
	cmd.Env = append(os.Environ(), NetnsEnv+"=1")
	return cmd, nil
}

// InNetns reports whether this process runs in the namespace NetnsCommand made.
func InNetns() bool { return os.Getenv(NetnsEnv) == "1" }

// NetnsSetup brings the namespace's loopback interface up with NetnsNodeIP and NetnsWorkerIP on
// it and makes them the scenario's nodes (UseNodeIPs). Nothing outside the namespace changes.
func NetnsSetup() error {
	for _, args := range [][]string{
		{"link", "set", "lo", "up"},
		{"addr", "add", NetnsNodeIP + "/32", "dev", "lo"},
		{"addr", "add", NetnsWorkerIP + "/32", "dev", "lo"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			return fmt.Errorf("ip %v: %w: %s", args, err, out)
		}
	}
	UseNodeIPs(NetnsNodeIP, NetnsWorkerIP)
	return nil
}
