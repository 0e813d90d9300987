package admission

import (
	"encoding/json"
	"fmt"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
)

// revisionTemplate is what revisionMounts reads of a DaemonSet's ControllerRevision data (the
// patch the DaemonSet controller stores: {"spec":{"template":...}}): the volumes' ConfigMaps.
type revisionTemplate struct {
	Spec struct {
		Template struct {
			Spec struct {
				Volumes []struct {
					ConfigMap *struct {
						Name string `json:"name"`
					} `json:"configMap"`
					Projected *struct {
						Sources []struct {
							ConfigMap *struct {
								Name string `json:"name"`
							} `json:"configMap"`
						} `json:"sources"`
					} `json:"projected"`
				} `json:"volumes"`
			} `json:"spec"`
		} `json:"template"`
	} `json:"spec"`
}

// revisionMounts reads a ControllerRevision message (metadata 1, data 2) and, when a DaemonSet
// that proxy accepts controls it, returns the ConfigMaps its pod template mounts (configMap
// volumes and projected sources). The data of another owner's revision is skipped unread.
func revisionMounts(item []byte, proxy func(daemonSet string) bool) ([]string, error) {
	var owner string
	if err := eachBytes(item, 1, func(meta []byte) error {
		var err error
		owner, err = daemonSetController(meta)
		return err
	}); err != nil {
		return nil, err
	}
	if owner == "" || !proxy(owner) {
		return nil, nil
	}
	var mounts []string
	err := eachBytes(item, 2, func(data []byte) error {
		return eachBytes(data, 1, func(raw []byte) error { // RawExtension.raw: JSON
			var t revisionTemplate
			if err := json.Unmarshal(raw, &t); err != nil {
				return fmt.Errorf("%w: revision data: %w", errProtobuf, err)
			}
			for _, v := range t.Spec.Template.Spec.Volumes {
				if v.ConfigMap != nil {
					mounts = append(mounts, v.ConfigMap.Name)
				}
				if v.Projected != nil {
					for _, src := range v.Projected.Sources {
						if src.ConfigMap != nil {
							mounts = append(mounts, src.ConfigMap.Name)
						}
					}
				}
			}
			return nil
		})
	})
	return mounts, err
}

// daemonSetController returns the name in the controller ownerReference (13) of an ObjectMeta
// message when it names a DaemonSet of group apps, or "".
func daemonSetController(meta []byte) (string, error) {
	var owner string
	err := eachBytes(meta, 13, func(ref []byte) error {
		var kind, name, apiVersion string
		var controller bool
		for b := ref; len(b) > 0; {
			num, typ, l := protowire.ConsumeTag(b)
			if l < 0 {
				return fmt.Errorf("%w: %w", errProtobuf, protowire.ParseError(l))
			}
			b = b[l:]
			switch {
			case typ == protowire.BytesType && (num == 1 || num == 3 || num == 5):
				v, l := protowire.ConsumeBytes(b)
				if l < 0 {
					return fmt.Errorf("%w: %w", errProtobuf, protowire.ParseError(l))
				}
				switch num {
				case 1:
					kind = string(v)
				case 3:
					name = string(v)
				case 5:
					apiVersion = string(v)
				}
				b = b[l:]
			case typ == protowire.VarintType && num == 6:
				v, l := protowire.ConsumeVarint(b)
				if l < 0 {
					return fmt.Errorf("%w: %w", errProtobuf, protowire.ParseError(l))
				}
				controller = v != 0
				b = b[l:]
			default:
				l = protowire.ConsumeFieldValue(num, typ, b)
				if l < 0 {
					return fmt.Errorf("%w: %w", errProtobuf, protowire.ParseError(l))
				}
				b = b[l:]
			}
		}
		if controller && kind == "DaemonSet" && strings.HasPrefix(apiVersion, "apps/") {
			owner = name
		}
		return nil
	})
	return owner, err
}
