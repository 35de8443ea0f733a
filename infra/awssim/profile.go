package awssim

import (
	"math/rand"
	"time"
)

// Profile holds the durations of the simulated operations at AWS speed and
// the knobs that scale and vary them.
type Profile struct {
	// TimeScale divides every duration: 1 is AWS speed, 60 turns a minute
	// into a second. Zero means 1.
	TimeScale float64 `json:"timeScale"`
	// Jitter varies each duration by up to this fraction either way
	// (0.1 is ±10%), drawn from a generator seeded with Seed so that runs
	// repeat.
	Jitter float64 `json:"jitter"`
	Seed   int64   `json:"seed"`

	// ECSTaskStart is the time from a task's launch to RUNNING.
	ECSTaskStart Duration `json:"ecsTaskStart"`
	// ECSTaskStagger separates the launches of one deployment's tasks.
	ECSTaskStagger Duration `json:"ecsTaskStagger"`
	// ECSTaskStop is the time a task takes to drain and stop.
	ECSTaskStop Duration `json:"ecsTaskStop"`

	RDSCreate        Duration `json:"rdsCreate"`
	RDSReplicaCreate Duration `json:"rdsReplicaCreate"`
	// RDSPromoteModifying and RDSPromoteBackingUp are the two phases of a
	// read replica promotion.
	RDSPromoteModifying Duration `json:"rdsPromoteModifying"`
	RDSPromoteBackingUp Duration `json:"rdsPromoteBackingUp"`
	RDSModify           Duration `json:"rdsModify"`
	RDSDelete           Duration `json:"rdsDelete"`
	RDSSnapshot         Duration `json:"rdsSnapshot"`
	RDSRestore          Duration `json:"rdsRestore"`
	// RDSReplicaLag is the lag CloudWatch reports for every read replica
	// and Aurora global secondary that SetReplicaLag has not set. TimeScale
	// leaves it alone: it is a reported value, which callers compare with
	// thresholds in real seconds, not a time the simulator waits.
	RDSReplicaLag Duration `json:"rdsReplicaLag"`

	AuroraClusterCreate Duration `json:"auroraClusterCreate"`
	AuroraSwitchover    Duration `json:"auroraSwitchover"`
	AuroraFailover      Duration `json:"auroraFailover"`
	AuroraPromote       Duration `json:"auroraPromote"`

	// Route53Propagation is the time a change stays PENDING.
	Route53Propagation Duration `json:"route53Propagation"`
}

// DefaultProfile returns durations close to what AWS shows in practice.
func DefaultProfile() Profile {
	return Profile{
		TimeScale:           1,
		Jitter:              0.1,
		Seed:                1,
		ECSTaskStart:        Duration(30 * time.Second),
		ECSTaskStagger:      Duration(2 * time.Second),
		ECSTaskStop:         Duration(15 * time.Second),
		RDSCreate:           Duration(10 * time.Minute),
		RDSReplicaCreate:    Duration(15 * time.Minute),
		RDSPromoteModifying: Duration(1 * time.Minute),
		RDSPromoteBackingUp: Duration(3 * time.Minute),
		RDSModify:           Duration(1 * time.Minute),
		RDSDelete:           Duration(2 * time.Minute),
		RDSSnapshot:         Duration(4 * time.Minute),
		RDSRestore:          Duration(12 * time.Minute),
		RDSReplicaLag:       Duration(time.Second),
		AuroraClusterCreate: Duration(8 * time.Minute),
		AuroraSwitchover:    Duration(1 * time.Minute),
		AuroraFailover:      Duration(90 * time.Second),
		AuroraPromote:       Duration(2 * time.Minute),
		Route53Propagation:  Duration(40 * time.Second),
	}
}

// Scaled returns d divided by the time scale, without jitter: what an
// operation takes in this simulator before variation.
func (p Profile) Scaled(d Duration) time.Duration {
	scale := p.TimeScale
	if scale <= 0 {
		scale = 1
	}
	return time.Duration(float64(d) / scale)
}

// Duration is a time.Duration that reads and writes as a Go duration string
// ("30s") in JSON.
type Duration time.Duration

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) {
	return []byte(time.Duration(d).String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// jittered draws a scaled, jittered duration. The caller holds the
// simulator's lock, which also guards rng.
func jittered(p Profile, rng *rand.Rand, d Duration) time.Duration {
	base := p.Scaled(d)
	if p.Jitter <= 0 {
		return base
	}
	f := 1 + p.Jitter*(2*rng.Float64()-1)
	return time.Duration(float64(base) * f)
}
