package dataplane

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// LockFileName is the file in os.TempDir() that every test using the component ports locks
// (flock, exclusive) for as long as it uses them: the ports are fixed by the product, and go test
// runs packages in parallel.
const LockFileName = "metrics-proxy-component-ports.lock"

// LockWait bounds how long LockPorts waits for another test process to release the ports.
var LockWait = 5 * time.Minute

// LockPorts takes the exclusive lock on the component ports and releases it in t.Cleanup. It
// waits at most LockWait, then fails the test naming the process that holds the lock. A process
// holds the lock at most once: a second LockPorts in the same test binary waits for the first
// to be released.
func LockPorts(t testing.TB) {
	t.Helper()
	path := filepath.Join(os.TempDir(), LockFileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		t.Fatalf("component port lock: %v", err)
	}
	deadline := time.Now().Add(LockWait)
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) || time.Now().After(deadline) {
			holder, _ := os.ReadFile(path)
			_ = f.Close()
			t.Fatalf("component port lock %s: %v (held by %s for longer than %s)", path, err,
				strings.TrimSpace(string(holder)), LockWait)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Say who holds it, for the message above in another process.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(fmt.Sprintf("pid %d (%s)\n", os.Getpid(), filepath.Base(os.Args[0]))), 0)
	}
	t.Cleanup(func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		_ = f.Close()
	})
}

// PortOwner describes the processes listening on TCP port port (any address), as
// "pid 123 (haproxy) on 127.0.0.1:10249", from /proc. It returns "unknown process" when /proc
// does not tell.
func PortOwner(port int) string {
	inodes := map[string]string{} // socket inode -> local address
	for _, file := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		data, err := os.ReadFile(file)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n")[1:] {
			f := strings.Fields(line)
			if len(f) < 10 || f[3] != "0A" { // 0A: LISTEN
				continue
			}
			addr, p, ok := decodeProcAddr(f[1])
			if ok && p == port {
				inodes[f[9]] = addr
			}
		}
	}
	if len(inodes) == 0 {
		return "unknown process"
	}
	var owners []string
	procs, _ := os.ReadDir("/proc")
	for i, p := range procs {
		if i > 100000 || len(owners) >= 10 {
			break
		}
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		fds, _ := os.ReadDir(filepath.Join("/proc", p.Name(), "fd"))
		for j, fd := range fds {
			if j > 100000 {
				break
			}
			link, err := os.Readlink(filepath.Join("/proc", p.Name(), "fd", fd.Name()))
			if err != nil || !strings.HasPrefix(link, "socket:[") {
				continue
			}
			inode := strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")
			if addr, ok := inodes[inode]; ok {
				comm, _ := os.ReadFile(filepath.Join("/proc", p.Name(), "comm"))
				owners = append(owners, fmt.Sprintf("pid %d (%s) on %s", pid, strings.TrimSpace(string(comm)), addr))
			}
		}
	}
	if len(owners) == 0 {
		return "unknown process"
	}
	return strings.Join(owners, ", ")
}

// decodeProcAddr reads "0100007F:2819" (IPv4) or the 32-digit IPv6 form of /proc/net/tcp*.
func decodeProcAddr(s string) (string, int, bool) {
	host, portHex, ok := strings.Cut(s, ":")
	if !ok {
		return "", 0, false
	}
	port, err := strconv.ParseUint(portHex, 16, 16)
	if err != nil {
		return "", 0, false
	}
	if len(host) == 8 {
		v, err := strconv.ParseUint(host, 16, 32)
		if err != nil {
			return "", 0, false
		}
		// The kernel prints the address in host byte order (little-endian here).
		return fmt.Sprintf("%d.%d.%d.%d:%d", v&0xff, v>>8&0xff, v>>16&0xff, v>>24, port), int(port), true
	}
	return "[" + host + "]:" + strconv.Itoa(int(port)), int(port), true
}
