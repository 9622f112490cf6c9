/// Threefry-2x32 with 20 rounds: the counter-based block function of
/// Random123 (Salmon, Moraes, Dror & Shaw, "Parallel Random Numbers: As Easy
/// as 1, 2, 3", SC 2011), which is also the hash behind JAX's default PRNG.
///
/// It maps a 64-bit counter (two 32-bit words) under a 64-bit key (two
/// words) to 64 pseudo-random bits (two words). The same (key, counter)
/// always gives the same output; different counters give independent-looking
/// outputs. See Docs/random.md for the round structure and the known-answer
/// vectors it is tested against.
public enum Threefry2x32 {
    /// Number of rounds (the Random123 default that passes TestU01 BigCrush
    /// with a safety margin; 13 is the minimum that passes).
    public static let rounds = 20

    /// Rotation amounts of the Threefish-256 schedule restricted to two
    /// 32-bit words, used cyclically: round r rotates by `rotations[r % 8]`.
    static let rotations: [UInt32] = [13, 15, 26, 6, 17, 29, 16, 24]

    /// The Skein key-schedule parity constant: the third key word is
    /// `parity ^ k0 ^ k1`.
    static let keyScheduleParity: UInt32 = 0x1BD1_1BDA

    /// The two output words for counter `(counter.0, counter.1)` under key
    /// `(key.0, key.1)`.
    ///
    /// Word order follows Random123's known-answer file and JAX: element 0
    /// of each pair is Random123's `v[0]` / `k[0]`.
    public static func hash(counter: (UInt32, UInt32), key: (UInt32, UInt32)) -> (UInt32, UInt32) {
        // Extended key: two key words plus their parity word.
        let keySchedule: [UInt32] = [key.0, key.1, keyScheduleParity ^ key.0 ^ key.1]

        // Initial key injection (injection number 0).
        var x0 = counter.0 &+ keySchedule[0]
        var x1 = counter.1 &+ keySchedule[1]

        for round in 0..<rounds {
            // MIX: add, rotate, xor.
            x0 = x0 &+ x1
            x1 = rotateLeft(x1, by: rotations[round % 8])
            x1 = x1 ^ x0

            // After every 4 rounds inject the key again, rotated by one word,
            // plus the injection number (breaks the symmetry between
            // injections).
            if round % 4 == 3 {
                let injection = (round + 1) / 4
                x0 = x0 &+ keySchedule[injection % 3]
                x1 = x1 &+ keySchedule[(injection + 1) % 3] &+ UInt32(injection)
            }
        }
        return (x0, x1)
    }

    /// 32-bit left rotation; `amount` is in 1...31.
    @inline(__always)
    static func rotateLeft(_ word: UInt32, by amount: UInt32) -> UInt32 {
        (word << amount) | (word >> (32 - amount))
    }
}
