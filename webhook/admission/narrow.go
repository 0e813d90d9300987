package admission

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/metrics-proxy/injector/webhook/names"
)

// narrowDaemonSet is what the live look-up reads of a DaemonSet: its name, the inject label,
// whether it carries the status annotation, and the ConfigMaps its pod template mounts. It is
// read from the API server's protobuf encoding, where every other field (the containers, a
// tenant's padded annotations) is skipped by its length, never scanned nor allocated.
type narrowDaemonSet struct {
	name     string
	labelled bool   // it has the inject label
	inject   string // the inject label's value
	injected bool   // it carries the status annotation
	mounts   []string
}

// isProxy is mountedByProxy's test on the narrow form: labelled metrics-proxy.io/inject=true or
// injected, and not opted out (metrics-proxy.io/inject=false).
func (ds *narrowDaemonSet) isProxy() bool {
	if ds.labelled && ds.inject == "false" {
		return false
	}
	return ds.injected || (ds.labelled && ds.inject == "true")
}

// Bounds on what the decoder reads into memory at once.
const (
	// maxItemBytes bounds one DaemonSet of a list (the API server stores objects of at most
	// 1.5 MiB by default); a larger one is an error, not an allocation.
	maxItemBytes = 8 << 20
	// maxListMetaBytes bounds a list's metadata.
	maxListMetaBytes = 64 << 10
)

// protobufMagic starts every object the API server encodes in protobuf; a runtime.Unknown
// follows, whose field 2 holds the object.
var protobufMagic = []byte("k8s\x00")

// errProtobuf is wrapped by the decoder's errors.
var errProtobuf = errors.New("malformed DaemonSetList")

// decodeDaemonSetList reads one page of a DaemonSetList in the API server's protobuf encoding
// from r, one item at a time (the decoder holds one DaemonSet, not the page), calls each with
// every item, and returns the list's continue token.
func decodeDaemonSetList(r io.Reader, each func(*narrowDaemonSet)) (string, error) {
	return decodeList(r, func(item []byte) error {
		ds, err := decodeDaemonSet(item)
		if err != nil {
			return err
		}
		each(ds)
		return nil
	})
}

// decodeList reads one page of a list (of any kind: items are field 2, as in every list) in the
// API server's protobuf encoding from r, one item at a time, calls item with the bytes of each,
// and returns the list's continue token.
func decodeList(r io.Reader, item func([]byte) error) (string, error) {
	br := bufio.NewReaderSize(r, 32<<10)
	magic := make([]byte, len(protobufMagic))
	if _, err := io.ReadFull(br, magic); err != nil || !bytes.Equal(magic, protobufMagic) {
		return "", fmt.Errorf("%w: no protobuf envelope", errProtobuf)
	}
	var cont string
	err := streamFields(br, func(num protowire.Number, n uint64) error {
		if num != 2 { // runtime.Unknown.raw
			return discard(br, n)
		}
		raw := &io.LimitedReader{R: br, N: int64(n)}
		var err error
		cont, err = decodeListBody(raw, item)
		if err == nil && raw.N != 0 {
			err = fmt.Errorf("%w: %d bytes after the list", errProtobuf, raw.N)
		}
		return err
	})
	return cont, err
}

// decodeListBody walks a list message: metadata (1) and items (2).
func decodeListBody(r *io.LimitedReader, item func([]byte) error) (string, error) {
	br := bufio.NewReaderSize(r, 512) // the items are read with ReadFull, past the buffer
	var cont string
	var buf []byte
	err := streamFields(br, func(num protowire.Number, n uint64) error {
		switch num {
		case 1: // metadata: ListMeta
			if n > maxListMetaBytes {
				return fmt.Errorf("%w: list metadata of %d bytes", errProtobuf, n)
			}
			meta := make([]byte, n)
			if _, err := io.ReadFull(br, meta); err != nil {
				return fmt.Errorf("%w: %w", errProtobuf, err)
			}
			return eachBytes(meta, 3, func(b []byte) error { cont = string(b); return nil })
		case 2: // items
			if n > maxItemBytes {
				return fmt.Errorf("%w: a DaemonSet of %d bytes", errProtobuf, n)
			}
			if uint64(cap(buf)) < n {
				buf = make([]byte, n)
			}
			b := buf[:n]
			if _, err := io.ReadFull(br, b); err != nil {
				return fmt.Errorf("%w: %w", errProtobuf, err)
			}
			return item(b)
		}
		return discard(br, n)
	})
	return cont, err
}

// decodeDaemonSet reads a DaemonSet message: metadata (1) and spec (2).
func decodeDaemonSet(b []byte) (*narrowDaemonSet, error) {
	ds := &narrowDaemonSet{}
	err := eachBytes(b, 1, func(meta []byte) error {
		if err := eachBytes(meta, 1, func(name []byte) error { ds.name = string(name); return nil }); err != nil {
			return err
		}
		if err := mapEntries(meta, 11, func(k, v []byte) { // labels
			if string(k) == names.InjectLabel {
				ds.labelled, ds.inject = true, string(v)
			}
		}); err != nil {
			return err
		}
		return mapEntries(meta, 12, func(k, _ []byte) { // annotations
			ds.injected = ds.injected || string(k) == names.StatusAnnotation
		})
	})
	if err != nil {
		return nil, err
	}
	volume := volumeDecoder(func(name string) { ds.mounts = append(ds.mounts, name) })
	// spec (2) . template (2) . spec (2) . volumes (1)
	err = eachBytes(b, 2, func(spec []byte) error {
		return eachBytes(spec, 2, func(tmpl []byte) error {
			return eachBytes(tmpl, 2, func(pod []byte) error { return eachBytes(pod, 1, volume) })
		})
	})
	if err != nil {
		return nil, err
	}
	return ds, nil
}

// volumeDecoder returns a decoder of a Volume message that calls mount with the name of the
// ConfigMap of a configMap volume or of every projected configMap source.
func volumeDecoder(mount func(string)) func([]byte) error {
	name := func(b []byte) error { mount(string(b)); return nil }
	ref := func(b []byte) error { return eachBytes(b, 1, name) } // LocalObjectReference.name
	configMap := func(b []byte) error { return eachBytes(b, 1, ref) }
	return func(b []byte) error {
		return eachBytes(b, 2, func(src []byte) error { // volumeSource
			if err := eachBytes(src, 19, configMap); err != nil {
				return err
			}
			return eachBytes(src, 26, func(proj []byte) error { // projected
				return eachBytes(proj, 1, func(vp []byte) error { return eachBytes(vp, 3, configMap) }) // sources
			})
		})
	}
}

// eachBytes calls fn with the contents of every length-delimited field num of the message b,
// in order, and skips the other fields.
func eachBytes(b []byte, num protowire.Number, fn func([]byte) error) error {
	for len(b) > 0 {
		n, typ, l := protowire.ConsumeTag(b)
		if l < 0 {
			return fmt.Errorf("%w: %w", errProtobuf, protowire.ParseError(l))
		}
		b = b[l:]
		if n == num && typ == protowire.BytesType {
			v, l := protowire.ConsumeBytes(b)
			if l < 0 {
				return fmt.Errorf("%w: %w", errProtobuf, protowire.ParseError(l))
			}
			if err := fn(v); err != nil {
				return err
			}
			b = b[l:]
			continue
		}
		l = protowire.ConsumeFieldValue(n, typ, b)
		if l < 0 {
			return fmt.Errorf("%w: %w", errProtobuf, protowire.ParseError(l))
		}
		b = b[l:]
	}
	return nil
}

// mapEntries calls fn with the key (1) and value (2) of every entry of the map field num.
func mapEntries(b []byte, num protowire.Number, fn func(k, v []byte)) error {
	return eachBytes(b, num, func(entry []byte) error {
		var k, v []byte
		if err := eachBytes(entry, 1, func(b []byte) error { k = b; return nil }); err != nil {
			return err
		}
		if err := eachBytes(entry, 2, func(b []byte) error { v = b; return nil }); err != nil {
			return err
		}
		fn(k, v)
		return nil
	})
}

// streamFields reads the fields of a message from br until its end, calling fn with the number
// and length of every length-delimited one (fn reads or discards those n bytes) and skipping
// the others.
func streamFields(br *bufio.Reader, fn func(num protowire.Number, n uint64) error) error {
	for {
		tag, err := binary.ReadUvarint(br)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%w: %w", errProtobuf, err)
		}
		num, typ := protowire.DecodeTag(tag)
		switch typ {
		case protowire.BytesType:
			n, err := binary.ReadUvarint(br)
			if err != nil {
				return fmt.Errorf("%w: %w", errProtobuf, err)
			}
			if err := fn(num, n); err != nil {
				return err
			}
		case protowire.VarintType:
			if _, err := binary.ReadUvarint(br); err != nil {
				return fmt.Errorf("%w: %w", errProtobuf, err)
			}
		case protowire.Fixed32Type:
			err = discard(br, 4)
		case protowire.Fixed64Type:
			err = discard(br, 8)
		default:
			return fmt.Errorf("%w: wire type %d", errProtobuf, typ)
		}
		if err != nil {
			return err
		}
	}
}

// discard skips n bytes of br.
func discard(br *bufio.Reader, n uint64) error {
	if n > 1<<62 {
		return fmt.Errorf("%w: a field of %d bytes", errProtobuf, n)
	}
	if _, err := io.CopyN(io.Discard, br, int64(n)); err != nil {
		return fmt.Errorf("%w: %d bytes cut short", errProtobuf, n)
	}
	return nil
}
