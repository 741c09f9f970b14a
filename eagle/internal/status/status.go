// Package status evaluates consumer groups over a window of samples, the
// way Burrow does, with no wall clock (times come from the samples):
//
//	OK      lag was zero at some sample in the window, or offsets advance
//	        and lag does not grow at every step
//	WARN    offsets advance but lag grew at every step of a full window
//	STALL   the committed offset has not moved over the window, there is
//	        lag, and the group has members (they are stuck)
//	STOP    the committed offset has not moved over the window, there is
//	        lag, and no member is consuming (or nothing moved for more than
//	        twice the window)
//	REWIND  a committed offset went backwards
//	ERR     (group only) the group's offsets could not be read
//
// A group's status is its worst partition's. A group with no members whose
// partitions are all caught up is OK and reported as idle.
package status

import (
	"fmt"
	"time"

	"mqstack/eagle/internal/model"
)

// Statuses, in increasing severity.
const (
	OK     = "OK"
	Warn   = "WARN"
	Stall  = "STALL"
	Stop   = "STOP"
	Rewind = "REWIND"
	Err    = "ERR"
)

var severity = map[string]int{OK: 0, Warn: 1, Stall: 2, Stop: 3, Rewind: 4, Err: 5}

// Severity orders statuses (unknown: 0).
func Severity(s string) int { return severity[s] }

// Sample is one observation of a group's position in one partition.
type Sample struct {
	Time      time.Time
	Committed int64
	Lag       int64 // -1 unknown
}

// MinSamples is how many samples a full window has before WARN can be said.
const MinSamples = 3

// Partition evaluates one partition's window (oldest first).
func Partition(w []Sample, hasMembers bool) (string, string) {
	if len(w) == 0 {
		return OK, "no samples yet"
	}
	last := w[len(w)-1]
	for i := 1; i < len(w); i++ {
		if w[i].Committed < w[i-1].Committed {
			return Rewind, fmt.Sprintf("committed offset went back from %d to %d", w[i-1].Committed, w[i].Committed)
		}
	}
	for _, s := range w {
		if s.Lag == 0 {
			if last.Lag == 0 {
				return OK, "caught up"
			}
			return OK, "lag was zero within the window"
		}
	}
	if last.Lag < 0 {
		return OK, "lag unknown"
	}
	if len(w) < MinSamples {
		return OK, fmt.Sprintf("window not full yet (%d of %d samples)", len(w), MinSamples)
	}
	first := w[0]
	if first.Committed == last.Committed {
		span := last.Time.Sub(first.Time)
		if !hasMembers {
			return Stop, fmt.Sprintf("no member consumes; committed offset %d unchanged for %s with lag %d", last.Committed, span.Round(time.Second), last.Lag)
		}
		return Stall, fmt.Sprintf("members present but committed offset %d unchanged for %s with lag %d", last.Committed, span.Round(time.Second), last.Lag)
	}
	for i := 1; i < len(w); i++ {
		if w[i].Lag <= w[i-1].Lag {
			return OK, "consuming"
		}
	}
	return Warn, fmt.Sprintf("consuming, but lag grew at each of %d samples (%d -> %d)", len(w), first.Lag, last.Lag)
}

// Group combines partition statuses: the worst one, ERR on a read error.
func Group(g model.Group) (string, string) {
	if g.Error != "" && len(g.Offsets) == 0 {
		return Err, g.Error
	}
	if len(g.Offsets) == 0 {
		if len(g.Members) == 0 {
			return OK, "no committed offsets"
		}
		return OK, "members, no committed offsets yet"
	}
	worst, reason, worstTP := OK, "", ""
	allZero := true
	for _, o := range g.Offsets {
		if o.Lag != 0 {
			allZero = false
		}
		if Severity(o.Status) > Severity(worst) {
			worst, worstTP = o.Status, fmt.Sprintf("%s-%d", o.Topic, o.Partition)
		}
	}
	if worst != OK {
		reason = worstTP + ": " + reasonOf(g, worstTP)
		return worst, reason
	}
	if allZero && len(g.Members) == 0 {
		return OK, "idle, caught up"
	}
	if allZero {
		return OK, "caught up"
	}
	return OK, "consuming"
}

func reasonOf(g model.Group, tp string) string {
	for _, o := range g.Offsets {
		if fmt.Sprintf("%s-%d", o.Topic, o.Partition) == tp {
			return o.Status
		}
	}
	return ""
}

// Window keeps the last Size samples of every group partition. It is owned
// by one goroutine (the collection loop).
type Window struct {
	Size    int
	samples map[key][]Sample
	reasons map[key]string
}

type key struct {
	group, topic string
	partition    int32
}

// NewWindow keeps size samples per partition (Burrow's default is 10).
func NewWindow(size int) *Window {
	if size < MinSamples {
		size = MinSamples
	}
	return &Window{Size: size, samples: map[key][]Sample{}, reasons: map[key]string{}}
}

// Observe adds the snapshot's offsets to the window and sets every group's
// and group offset's Status (and the group's StatusReason).
func (w *Window) Observe(s *model.Snapshot) {
	seen := map[key]bool{}
	for gi := range s.Groups {
		g := &s.Groups[gi]
		hasMembers := len(g.Members) > 0
		for oi := range g.Offsets {
			o := &g.Offsets[oi]
			k := key{g.ID, o.Topic, o.Partition}
			seen[k] = true
			list := append(w.samples[k], Sample{Time: s.Time, Committed: o.Committed, Lag: o.Lag})
			if len(list) > w.Size {
				list = list[len(list)-w.Size:]
			}
			w.samples[k] = list
			st, why := Partition(list, hasMembers)
			o.Status = st
			w.reasons[k] = why
		}
		st, why := Group(*g)
		if st != OK && st != Err {
			// name the partition's own reason
			for oi := range g.Offsets {
				o := g.Offsets[oi]
				if o.Status == st {
					why = fmt.Sprintf("%s-%d: %s", o.Topic, o.Partition, w.reasons[key{g.ID, o.Topic, o.Partition}])
					break
				}
			}
		}
		g.Status, g.StatusReason = st, why
	}
	if s.KafkaError == "" {
		for k := range w.samples {
			if !seen[k] {
				delete(w.samples, k)
				delete(w.reasons, k)
			}
		}
	}
}
