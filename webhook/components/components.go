package components

import (
	"fmt"
	"strings"
)

// Component describes one control-plane component whose metrics listen on 127.0.0.1.
type Component struct {
	// Name is the component's name as users write it in annotations and policies.
	Name string
	// Port is both the frontend port on the node IP and the upstream port on 127.0.0.1.
	Port int32
	// TLS reports whether the upstream serves HTTPS (HAProxy uses `ssl verify none`).
	TLS bool
	// PortName is the name of the proxy container's port for this component (at most 15 characters).
	PortName string
}

// Upstream returns the address HAProxy forwards to, 127.0.0.1 on the component's port.
func (c Component) Upstream() string { return fmt.Sprintf("127.0.0.1:%d", c.Port) }

// all lists the components in the order the seed procedure writes them.
var all = [...]Component{
	{Name: "kube-proxy", Port: 10249, PortName: "kube-proxy"},
	{Name: "kube-controller-manager", Port: 10257, TLS: true, PortName: "kube-ctrl-mgr"},
	{Name: "kube-scheduler", Port: 10259, TLS: true, PortName: "kube-scheduler"},
	{Name: "etcd", Port: 2381, PortName: "etcd"},
}

// All returns every known component, in canonical order. The slice is a fresh copy.
func All() []Component { return append([]Component(nil), all[:]...) }

// Names returns the names of every known component, in canonical order.
func Names() []string {
	names := make([]string, len(all))
	for i, c := range all {
		names[i] = c.Name
	}
	return names
}

// Lookup returns the component called name.
func Lookup(name string) (Component, bool) {
	for _, c := range all {
		if c.Name == name {
			return c, true
		}
	}
	return Component{}, false
}

// Parse reads a comma-separated list of component names, as in the metrics-proxy.io/components
// annotation. Surrounding blanks are ignored; an empty list, an empty item, an unknown name or a
// repeated name is an error. The result is in canonical order, whatever order the list has.
func Parse(list string) ([]Component, error) {
	if strings.TrimSpace(list) == "" {
		return nil, fmt.Errorf("empty component list: want a comma list out of %s", strings.Join(Names(), ","))
	}
	seen := map[string]bool{}
	for _, item := range strings.Split(list, ",") {
		name := strings.TrimSpace(item)
		if name == "" {
			return nil, fmt.Errorf("empty item in component list %q", list)
		}
		if _, ok := Lookup(name); !ok {
			return nil, fmt.Errorf("unknown component %q: want one of %s", name, strings.Join(Names(), ","))
		}
		if seen[name] {
			return nil, fmt.Errorf("component %q listed twice", name)
		}
		seen[name] = true
	}
	var out []Component
	for _, c := range all {
		if seen[c.Name] {
			out = append(out, c)
		}
	}
	return out, nil
}

// Join returns the names of cs as a comma list, the inverse of Parse.
func Join(cs []Component) string {
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = c.Name
	}
	return strings.Join(names, ",")
}
