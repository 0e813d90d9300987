package admission

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"

	"google.golang.org/protobuf/encoding/protowire"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// metadataOnly asks the API server for an object's metadata alone, in protobuf (as the
// metadata informers do): a DaemonSet's spec is never sent.
const metadataOnly = "application/vnd.kubernetes.protobuf;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"

// IsProxy reports whether the DaemonSet name of namespace exists, whether it is a proxy (see
// mountedByProxy: labelled metrics-proxy.io/inject=true or injected, not opted out) and whether
// it is one only by an earlier injection (injected, not labelled inject=true: its namespace lost
// injection; see DaemonSetValidator.unguardedConfig), read from
// the API server within LookupTimeout: its metadata alone, decoded in the narrow form of the live
// lists (a PartialObjectMetadata holds the metadata where a DaemonSet does, field 1), so that a
// tenant's padded DaemonSet costs at most one buffer of its metadata, never its spec nor a
// decoded object.
func (l *LiveDaemonSets) IsProxy(ctx context.Context, namespace, name string) (found, proxy, earlier bool, err error) {
	err = bounded(ctx, LookupTimeout, "get DaemonSet "+namespace+"/"+name+" from the API server", func(ctx context.Context) error {
		body, err := l.client.Get().Namespace(namespace).Resource("daemonsets").Name(name).
			SetHeader("Accept", metadataOnly).Stream(ctx)
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		defer body.Close()
		ds, err := decodeDaemonSetObject(body)
		if err != nil {
			return err
		}
		found, proxy = true, ds.isProxy()
		earlier = proxy && ds.injected && !(ds.labelled && ds.inject == "true")
		return nil
	})
	return found, proxy, earlier, err
}

// decodeDaemonSetObject reads one DaemonSet, or its PartialObjectMetadata, in the API server's
// protobuf encoding (the envelope of decodeDaemonSetList around one object, not a list) in its
// narrow form; an object larger than maxItemBytes is an error, not an allocation.
func decodeDaemonSetObject(r io.Reader) (*narrowDaemonSet, error) {
	br := bufio.NewReaderSize(r, 32<<10)
	magic := make([]byte, len(protobufMagic))
	if _, err := io.ReadFull(br, magic); err != nil || !bytes.Equal(magic, protobufMagic) {
		return nil, fmt.Errorf("%w: no protobuf envelope", errProtobuf)
	}
	var ds *narrowDaemonSet
	err := streamFields(br, func(num protowire.Number, n uint64) error {
		if num != 2 { // runtime.Unknown.raw
			return discard(br, n)
		}
		if n > maxItemBytes {
			return fmt.Errorf("%w: a DaemonSet of %d bytes", errProtobuf, n)
		}
		raw := make([]byte, n)
		if _, err := io.ReadFull(br, raw); err != nil {
			return fmt.Errorf("%w: %w", errProtobuf, err)
		}
		var err error
		ds, err = decodeDaemonSet(raw)
		return err
	})
	if err == nil && ds == nil {
		err = fmt.Errorf("%w: no DaemonSet in the envelope", errProtobuf)
	}
	return ds, err
}
