package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTick is the unit of the CPU times in /proc (USER_HZ, 100 on Linux).
const clockTick = 10 * time.Millisecond

// CPUSnapshot is the CPU time the machine and a process tree have used so far.
type CPUSnapshot struct {
	// Busy and Total are the machine's busy and total CPU time, summed over all CPUs.
	Busy, Total time.Duration
	// Tree is the CPU time of the process tree: the root, its live descendants and every
	// descendant they have reaped.
	Tree time.Duration
}

// TakeCPUSnapshot reads /proc/stat and the /proc/PID/stat of every process in the tree of root.
func TakeCPUSnapshot(root int) (CPUSnapshot, error) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return CPUSnapshot{}, fmt.Errorf("read CPU times: %w", err)
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal guest guest_nice
	if len(f) < 9 || f[0] != "cpu" {
		return CPUSnapshot{}, fmt.Errorf("unexpected /proc/stat line %q", line)
	}
	var s CPUSnapshot
	for i := 1; i <= 8; i++ {
		v, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil {
			return CPUSnapshot{}, fmt.Errorf("/proc/stat: %w", err)
		}
		s.Total += time.Duration(v) * clockTick
		if i != 4 && i != 5 { // idle, iowait
			s.Busy += time.Duration(v) * clockTick
		}
	}
	procs, err := readProcesses()
	if err != nil {
		return CPUSnapshot{}, err
	}
	children := map[int][]int{}
	for pid, p := range procs {
		children[p.ppid] = append(children[p.ppid], pid)
	}
	for queue := []int{root}; len(queue) > 0; queue = queue[1:] {
		s.Tree += procs[queue[0]].cpu
		queue = append(queue, children[queue[0]]...)
	}
	return s, nil
}

// ForeignShare is the share of the machine's CPU capacity that processes outside the tree used
// between two snapshots, from 0 (none) to 1 (every CPU all the time).
func ForeignShare(from, to CPUSnapshot) float64 {
	total := to.Total - from.Total
	if total <= 0 {
		return 0
	}
	foreign := (to.Busy - from.Busy) - (to.Tree - from.Tree)
	return min(max(float64(foreign)/float64(total), 0), 1)
}

type procTimes struct {
	ppid int
	cpu  time.Duration // utime + stime + cutime + cstime
}

// readProcesses reads the parent and CPU time of every process; one that ends meanwhile is skipped.
func readProcesses() (map[int]procTimes, error) {
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	out := make(map[int]procTimes, len(stats))
	for _, file := range stats {
		data, err := os.ReadFile(file)
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(filepath.Base(filepath.Dir(file)))
		if err != nil {
			continue
		}
		// After "pid (comm) ": state ppid ... with utime at field 14, counted from 1 with pid.
		i := strings.LastIndexByte(string(data), ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(data[i+1:]))
		if len(f) < 15 {
			continue
		}
		p := procTimes{}
		p.ppid, _ = strconv.Atoi(f[1])
		for _, j := range []int{11, 12, 13, 14} { // utime stime cutime cstime
			v, _ := strconv.ParseInt(f[j], 10, 64)
			p.cpu += time.Duration(v) * clockTick
		}
		out[pid] = p
	}
	return out, nil
}
