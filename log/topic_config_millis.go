package log

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// Durations of topic configs: milliseconds, as Kafka's *.ms configs, with a
// fraction to the nanosecond where a time.Duration has one (see the Config...
// constants), so that ParseTopicConfigs(c.Configs()) is c.

// millisRange is what a duration config accepts besides a positive duration.
type millisRange uint8

const (
	millisPositive    millisRange = iota // above 0
	millisOrUnlimited                    // above 0, or -1 (Unlimited)
	millisOrZero                         // 0 or more
)

// nanosPerMilli is the number of nanoseconds in a millisecond, and the six digits
// a fraction of a millisecond may have.
const nanosPerMilli = int64(time.Millisecond)

// parseMillis parses a duration in milliseconds: digits, then optionally "." and
// one to six more digits; -1 (Unlimited) where r allows it.
func parseMillis(value string, r millisRange) (time.Duration, error) {
	if value == "-1" && r == millisOrUnlimited {
		return Unlimited, nil
	}
	magnitude, negative := strings.CutPrefix(value, "-")
	d, err := parseMillisMagnitude(magnitude)
	switch {
	case err != nil:
		return 0, err
	case (negative || d == 0) && r == millisOrUnlimited:
		return 0, reasonf("want a number above 0, or -1 for no limit")
	case (negative || d == 0) && r == millisPositive:
		return 0, reasonf("want a number above 0")
	case negative && d != 0 && r == millisOrZero:
		return 0, reasonf("must not be negative")
	}
	return d, nil
}

// parseMillisMagnitude parses digits with an optional fraction of one to six
// digits as milliseconds.
func parseMillisMagnitude(s string) (time.Duration, error) {
	whole, fraction, dotted := strings.Cut(s, ".")
	if !allDigits(whole) || (dotted && (!allDigits(fraction) || len(fraction) > 6)) {
		return 0, reasonf("not an integer (nor a fraction of up to 6 decimals)")
	}
	tooLarge := reasonf("at most %s", formatMillis(math.MaxInt64))
	ms, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || ms > math.MaxInt64/nanosPerMilli {
		return 0, tooLarge
	}
	var nanos int64
	if dotted {
		nanos, _ = strconv.ParseInt(fraction+strings.Repeat("0", 6-len(fraction)), 10, 64)
	}
	if nanos > math.MaxInt64-ms*nanosPerMilli {
		return 0, tooLarge
	}
	return time.Duration(ms*nanosPerMilli + nanos), nil
}

// allDigits reports whether s is one or more ASCII digits.
func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// formatMillis formats a duration in milliseconds, with the fraction it has (to
// the nanosecond, trailing zeros dropped); Unlimited is -1.
func formatMillis(d time.Duration) string {
	if d == Unlimited {
		return "-1"
	}
	sign := ""
	magnitude := uint64(d)
	if d < 0 {
		sign, magnitude = "-", -magnitude
	}
	ms, nanos := magnitude/uint64(nanosPerMilli), magnitude%uint64(nanosPerMilli)
	out := sign + strconv.FormatUint(ms, 10)
	if nanos != 0 {
		fraction := strconv.FormatUint(nanos+uint64(nanosPerMilli), 10)[1:] // six digits, leading zeros kept
		out += "." + strings.TrimRight(fraction, "0")
	}
	return out
}
