package main

// The room's own send-side jitter and bursts (Modes.SendJitter, Modes.SendHoldEvery):
// a track's packets pass through a FIFO whose goroutine releases each one at its due
// time, so order is kept per track while packets are delayed by a random 0..SendJitter
// and, now and then, held for SendHoldMin..SendHoldMax and released in one burst.
// Without those modes packets go straight through (deliver on the caller's thread).

import (
	"math/rand"
	"sync"
	"time"
)

const sendQueueLen = 8192

type queuedPkt struct {
	layer   int
	pkt     []byte
	capture time.Time
	due     time.Time
}

type sendPath struct {
	m       Modes
	deliver func(layer int, pkt []byte, capture time.Time)
	rec     *PubTrackRec

	mu       sync.Mutex
	closed   bool
	ch       chan queuedPkt
	rng      *rand.Rand
	lastDue  time.Time
	holdEnd  time.Time
	nextHold time.Time
	done     chan struct{}
}

func newSendPath(m Modes, rec *PubTrackRec, seed int64, deliver func(int, []byte, time.Time)) *sendPath {
	p := &sendPath{m: m, deliver: deliver, rec: rec}
	if m.SendJitter <= 0 && m.SendHoldEvery <= 0 {
		return p
	}
	p.ch = make(chan queuedPkt, sendQueueLen)
	p.rng = rand.New(rand.NewSource(seed))
	p.done = make(chan struct{})
	if m.SendHoldEvery > 0 {
		p.nextHold = time.Now().Add(p.holdGap())
	}
	go p.run()
	return p
}

// uniform returns a duration in [lo, hi].
func (p *sendPath) uniform(lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(p.rng.Int63n(int64(hi-lo)+1))
}

func (p *sendPath) holdGap() time.Duration {
	return p.uniform(p.m.SendHoldEvery/2, p.m.SendHoldEvery*3/2)
}

// push hands a packet on now or at its due time (from a streaming thread).
func (p *sendPath) push(layer int, pkt []byte, capture time.Time) {
	if p.ch == nil {
		p.deliver(layer, pkt, capture)
		return
	}
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	due := now
	if p.m.SendJitter > 0 {
		due = now.Add(p.uniform(0, p.m.SendJitter))
	}
	if p.m.SendHoldEvery > 0 && !now.Before(p.nextHold) {
		hold := p.uniform(p.m.SendHoldMin, p.m.SendHoldMax)
		p.holdEnd = now.Add(hold)
		p.nextHold = p.holdEnd.Add(p.holdGap())
		repMu.Lock()
		p.rec.Holds++
		p.rec.HoldMs += int(hold / time.Millisecond)
		repMu.Unlock()
	}
	if due.Before(p.holdEnd) {
		due = p.holdEnd
	}
	if due.Before(p.lastDue) {
		due = p.lastDue // order kept per track
	}
	p.lastDue = due
	delay := int(due.Sub(now) / time.Millisecond)
	select {
	case p.ch <- queuedPkt{layer: layer, pkt: pkt, capture: capture, due: due}:
		repMu.Lock()
		if delay > p.rec.MaxSendDelayMs {
			p.rec.MaxSendDelayMs = delay
		}
		repMu.Unlock()
	default:
		repMu.Lock()
		p.rec.SendQueueDrops++
		repMu.Unlock()
	}
}

func (p *sendPath) run() {
	defer close(p.done)
	for q := range p.ch {
		if d := time.Until(q.due); d > 0 {
			time.Sleep(d)
		}
		p.deliver(q.layer, q.pkt, q.capture)
	}
}

// close stops the path; queued packets are still delivered (the caller drops them if
// the track is stopped). Not from deliver.
func (p *sendPath) close() {
	if p.ch == nil {
		return
	}
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		close(p.ch)
	}
	p.mu.Unlock()
	<-p.done
}
