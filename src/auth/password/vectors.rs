//! Hashes written by Django itself, checked against the passwords they were made from, and
//! malformed or hostile variants of them. Django 5.2.19 (argon2-cffi, bcrypt) wrote most, with
//! hashers subclassed to low work factors and once with its defaults; Django 4.2.30 wrote the
//! legacy ones 5.x no longer ships (SHA-1, unsalted MD5 and SHA-1, crypt). The argon2i and
//! version 0x10 forms are what older Django and argon2-cffi wrote (argon2-cffi's low-level
//! `hash_secret`, verified by Django's `Argon2PasswordHasher.verify`).

use super::{PasswordHasher, Unverifiable};

fn hasher() -> PasswordHasher {
    PasswordHasher::new(4)
}

/// Malformed, truncated and hostile stored values: each is refused with the reason given,
/// and none panics.
#[test]
fn malformed_stored_hashes_are_refused_without_panicking() {
    use Unverifiable::{BeyondLimits, Malformed};
    let cases: &[(&str, Result<bool, Unverifiable>, &str)] = &[
        (
            "pbkdf2_sha256$",
            Err(Malformed("pbkdf2_sha256")),
            "pbkdf2: nothing after the prefix",
        ),
        (
            "pbkdf2_sha256$1000",
            Err(Malformed("pbkdf2_sha256")),
            "pbkdf2: no salt or hash",
        ),
        (
            "pbkdf2_sha256$x$salt$hash",
            Err(Malformed("pbkdf2_sha256")),
            "pbkdf2: iterations not a number",
        ),
        (
            "pbkdf2_sha256$-1$salt$hash",
            Err(Malformed("pbkdf2_sha256")),
            "pbkdf2: negative iterations",
        ),
        (
            "pbkdf2_sha256$0$salt$hash",
            Err(Malformed("pbkdf2_sha256")),
            "pbkdf2: zero iterations",
        ),
        (
            "pbkdf2_sha256$10000001$salt$hash",
            Err(BeyondLimits("pbkdf2_sha256")),
            "pbkdf2: iterations past the limit",
        ),
        (
            "pbkdf2_sha1$99999999999999999999999$salt$hash",
            Err(BeyondLimits("pbkdf2_sha1")),
            "pbkdf2: iterations past u64",
        ),
        (
            "argon2$",
            Err(Malformed("argon2")),
            "argon2: nothing after the prefix",
        ),
        (
            "argon2$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ",
            Err(Malformed("argon2")),
            "argon2: no hash part",
        ),
        (
            "argon2$argon2x$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$aGFzaGhhc2g",
            Err(Malformed("argon2")),
            "argon2: unknown variant",
        ),
        (
            "argon2$argon2id$v=20$m=65536,t=2,p=1$c29tZXNhbHQ$aGFzaGhhc2g",
            Err(Malformed("argon2")),
            "argon2: unknown version",
        ),
        (
            "argon2$argon2id$v=19$m=65536,t=2$c29tZXNhbHQ$aGFzaGhhc2g",
            Err(Malformed("argon2")),
            "argon2: no lanes",
        ),
        (
            "argon2$argon2id$v=19$m=65536,m=1,t=2,p=1$c29tZXNhbHQ$aGFzaGhhc2g",
            Err(Malformed("argon2")),
            "argon2: a parameter twice",
        ),
        (
            "argon2$argon2id$v=19$m=65536,t=2,p=1,x=3$c29tZXNhbHQ$aGFzaGhhc2g",
            Err(Malformed("argon2")),
            "argon2: an unknown parameter",
        ),
        (
            "argon2$argon2id$v=19$m=65536,t=2,p=1$!!!$aGFzaGhhc2g",
            Err(Malformed("argon2")),
            "argon2: salt not base64",
        ),
        (
            "argon2$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaGhhc2g",
            Err(Malformed("argon2")),
            "argon2: salt under 8 bytes",
        ),
        (
            "argon2$argon2id$v=19$m=1,t=1,p=1$c29tZXNhbHQ$aGFzaGhhc2g",
            Err(Malformed("argon2")),
            "argon2: memory below 8 KiB per lane",
        ),
        (
            "argon2$argon2id$v=19$m=4194304,t=1,p=1$c29tZXNhbHQ$aGFzaGhhc2g",
            Err(BeyondLimits("argon2")),
            "argon2: 4 GiB of memory",
        ),
        (
            "argon2$argon2id$v=19$m=102400,t=100,p=8$c29tZXNhbHQ$aGFzaGhhc2g",
            Err(BeyondLimits("argon2")),
            "argon2: too many passes for its memory",
        ),
        (
            "argon2$argon2id$v=19$m=65536,t=2,p=1000$c29tZXNhbHQ$aGFzaGhhc2g",
            Err(BeyondLimits("argon2")),
            "argon2: too many lanes",
        ),
        (
            "scrypt$",
            Err(Malformed("scrypt")),
            "scrypt: nothing after the prefix",
        ),
        (
            "scrypt$16384$salt$8$1",
            Err(Malformed("scrypt")),
            "scrypt: no hash part",
        ),
        (
            "scrypt$16385$salt$8$1$aGFzaA==",
            Err(Malformed("scrypt")),
            "scrypt: n not a power of two",
        ),
        (
            "scrypt$1$salt$8$1$aGFzaA==",
            Err(Malformed("scrypt")),
            "scrypt: n of one",
        ),
        (
            "scrypt$16384$salt$0$1$aGFzaA==",
            Err(Malformed("scrypt")),
            "scrypt: r of zero",
        ),
        (
            "scrypt$16384$salt$8$x$aGFzaA==",
            Err(Malformed("scrypt")),
            "scrypt: p not a number",
        ),
        (
            "scrypt$1048576$salt$8$1$aGFzaA==",
            Err(BeyondLimits("scrypt")),
            "scrypt: 1 GiB of memory",
        ),
        (
            "scrypt$16384$salt$8$64$aGFzaA==",
            Err(BeyondLimits("scrypt")),
            "scrypt: too much work",
        ),
        (
            "scrypt$9223372036854775808$salt$8$1$aGFzaA==",
            Err(BeyondLimits("scrypt")),
            "scrypt: n of 2^63",
        ),
        (
            "bcrypt_sha256$",
            Err(Malformed("bcrypt_sha256")),
            "bcrypt_sha256: nothing after the prefix",
        ),
        (
            "bcrypt_sha256$$2b$12$short",
            Err(Malformed("bcrypt_sha256")),
            "bcrypt_sha256: truncated",
        ),
        (
            "bcrypt_sha256$$2b$17$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyz01234",
            Err(BeyondLimits("bcrypt_sha256")),
            "bcrypt_sha256: cost past the limit",
        ),
        ("bcrypt$$2b$", Err(Malformed("bcrypt")), "bcrypt: no cost"),
        ("md5$$", Ok(false), "unsalted md5 without digest"),
        ("md5$salt", Err(Malformed("md5")), "md5: no digest"),
        (
            "md5$$$",
            Ok(false),
            "md5: empty salt is unsalted md5 with a wrong digest",
        ),
        ("sha1$salt", Err(Malformed("sha1")), "sha1: no digest"),
        ("sha1$$", Ok(false), "unsalted sha1 without digest"),
        (
            "0123456789abcdef0123456789abcdeg",
            Err(Unverifiable::Unknown),
            "32 characters that are not all hex",
        ),
        (
            "pbkdf2_sha256$1$sälz$ünicode",
            Ok(false),
            "non-ASCII salt and hash",
        ),
    ];
    for (stored, expected, case) in cases {
        assert_eq!(&hasher().check("password", stored), expected, "{case}");
    }
}

/// (what, password, hash written by Django).
const DJANGO: &[(&str, &str, &str)] = &[
    (
        "pbkdf2_sha256, 1000 iterations",
        "tangerine-voyage-41",
        "pbkdf2_sha256$1000$zkC3klVqz4vuo4dIshABMB$9EAvTDT9TBLJGuBoVpC1LR6wn9SS7OrWZ1QACpQ95Ro=",
    ),
    (
        "pbkdf2_sha256, 1000 iterations, non-ASCII password",
        "pässwörd ☃ with spaces ",
        "pbkdf2_sha256$1000$t4yD3ZP5t8EZAsR2dHSwtL$1nMkmqFrkCV9ABRiABHJwTWidLAnry168g9V/I5VnSE=",
    ),
    (
        "pbkdf2_sha1, 1000 iterations",
        "tangerine-voyage-41",
        "pbkdf2_sha1$1000$GMpCafwSu9et2l98I9cCJg$o8mfYfTKH3GrkEvGhJpVkXPVkQI=",
    ),
    (
        "pbkdf2_sha1, 1000 iterations, non-ASCII password",
        "pässwörd ☃ with spaces ",
        "pbkdf2_sha1$1000$GyYLEy9EzzdG03b7vE0VSX$2DIMvmfQYPQfXqrWVt14Ok9v2Hg=",
    ),
    (
        "argon2id v=19, m=64 t=1 p=2",
        "tangerine-voyage-41",
        "argon2$argon2id$v=19$m=64,t=1,p=2$SnNKbW1NYnoyQ0U2ZUpyM1ZMNUEzbA$6jV8kN1jqNoISmSe3tw8ERCwHaPEoo9IGazMfgmFsGA",
    ),
    (
        "argon2id v=19, m=64 t=1 p=2, non-ASCII password",
        "pässwörd ☃ with spaces ",
        "argon2$argon2id$v=19$m=64,t=1,p=2$SDJqdFljelpUbllKRlM3SXJScVc4VA$Zvd/8p7YIwEhh79zewb/STdeDwO18q0F8Paa8Wl7vdU",
    ),
    (
        "scrypt n=2^8 r=8 p=1",
        "tangerine-voyage-41",
        "scrypt$256$U9Yz48MypMFNpUpNIXsBgq$8$5$LwtKnik8vrfGbQjYvY9O3/5+9F4M30FdR4bSGSehaL01+X32VA38DoJfnfpc4ogqcfhjHIWv2yrb0+0FSH9UAA==",
    ),
    (
        "scrypt n=2^8 r=8 p=1, non-ASCII password",
        "pässwörd ☃ with spaces ",
        "scrypt$256$UftkP2BNHZUmTcQf93btpM$8$5$N5dnQcG0QafSS/uN1AkPOnJESTggFdPY9cvFb4JOi7koWPM+UjBh+Q3RDCLMmb/90I1tUnDfiK1HgF1hNNsppw==",
    ),
    (
        "bcrypt_sha256, cost 4",
        "tangerine-voyage-41",
        "bcrypt_sha256$$2b$04$zLve2z.WyvtjNaaXBTVaquGq5pX7FYZbimfnBiOJvEBY7Yz8daHDS",
    ),
    (
        "bcrypt_sha256, cost 4, non-ASCII password",
        "pässwörd ☃ with spaces ",
        "bcrypt_sha256$$2b$04$Ajh0EQqrkAYauHl5O2OXNeeEuE.cRxRZqAq6wYdKcKDVPzNXlBj.W",
    ),
    (
        "bcrypt, cost 4",
        "tangerine-voyage-41",
        "bcrypt$$2b$04$2ZVgl303G5RmTQDtUIwQPOto4eGK.YvHOtNcLJriWfYQHWst2qRTS",
    ),
    (
        "bcrypt, cost 4, non-ASCII password",
        "pässwörd ☃ with spaces ",
        "bcrypt$$2b$04$vH/Wd8Zq2q4OMVdUVk31d.6YBlo86Bw2WtLRsc9TnhpkmWkuPMFhq",
    ),
    (
        "argon2i v=19, m=64 t=1 p=2",
        "tangerine-voyage-41",
        "argon2$argon2i$v=19$m=64,t=1,p=2$UXg3Y1QxbVprOUxwQTJzVjhiTmQzZQ$MkzEldVUJZt/0uujgUHpiWt8cIpEfeTw0ClSFTqi3oo",
    ),
    (
        "argon2i without v= (version 0x10)",
        "tangerine-voyage-41",
        "argon2$argon2i$m=64,t=1,p=2$UXg3Y1QxbVprOUxwQTJzVjhiTmQzZQ$+CIasf0xaxl0HRn7MKbluxBnstG7jJ5uV1yDk+nUY50",
    ),
    (
        "argon2id v=16",
        "tangerine-voyage-41",
        "argon2$argon2id$v=16$m=64,t=1,p=2$UXg3Y1QxbVprOUxwQTJzVjhiTmQzZQ$Lc5gMMyknX6bpzkNWh/zZTi68QFAs0sBcSnO7IAMkx4",
    ),
    (
        "Django 5.2.19 defaults: pbkdf2_sha256",
        "tangerine-voyage-41",
        "pbkdf2_sha256$1000000$ea2VOLPn8sJRBWgG1X1exm$g5ghGto51gtazhtV2r4GELrmfhGhZmFMPD/atOCvyJw=",
    ),
    (
        "Django 5.2.19 defaults: pbkdf2_sha1",
        "tangerine-voyage-41",
        "pbkdf2_sha1$1000000$L2oA7JVU05dewUTT3jqyI4$jd4RVOLX+inRXVafVkz2GQ+xo3c=",
    ),
    (
        "Django 5.2.19 defaults: argon2",
        "tangerine-voyage-41",
        "argon2$argon2id$v=19$m=102400,t=2,p=8$N2JTalV2RHE1SzZTajBzdjUxVGRuVw$bo+Yfug3weHZ2xy5wBDl+qchA9q8YCcxVSkV1pgiQRc",
    ),
    (
        "Django 5.2.19 defaults: scrypt",
        "tangerine-voyage-41",
        "scrypt$16384$oa8iPs2bX1xcczN3SkD7uO$8$5$8i2XhbsUeZNPflZYxdSo/Oq/zEVYLmDMORwTeIWx+G6WcMybU7LTF4UpiYMelxS6akqbvA9SArRTy0yW1mG0/A==",
    ),
    (
        "Django 5.2.19 defaults: bcrypt_sha256",
        "tangerine-voyage-41",
        "bcrypt_sha256$$2b$12$zAcNJJoWiPM6kSxorEqdv.t8znL26c8IT.WCewcy.7QJVElv7fd6K",
    ),
    (
        "Django 5.2.19 defaults: bcrypt",
        "tangerine-voyage-41",
        "bcrypt$$2b$12$7FcjDOLPnjQv8OMb8lHf6eK1XGQnY8ZKYANBN.0wLynUFQsEInQaG",
    ),
    (
        "Django 5.2.19 MD5PasswordHasher",
        "tangerine-voyage-41",
        "md5$eBd8cZCCKYn1eA86oxVuXZ$2b288628a36d2cea7fbcc0bd0864b6e7",
    ),
    (
        "Django 4.2.30 defaults: pbkdf2_sha1",
        "tangerine-voyage-41",
        "pbkdf2_sha1$600000$rKHFlvJVzDyvYirl3WwiYN$TvvDuEeVHGmmuDXKQ0CvxlmvWwo=",
    ),
    (
        "Django 4.2.30 MD5PasswordHasher",
        "tangerine-voyage-41",
        "md5$Ba4B0FTfXOvbcUnTz9DxWU$72f5d3cdef5312608475ac3e99c3a2bb",
    ),
    (
        "Django 4.2.30 SHA1PasswordHasher",
        "tangerine-voyage-41",
        "sha1$etiUCTFoqJIYVoMITfVJri$da60f7e7189b52ea74f94169e7ffff607116a5f1",
    ),
    (
        "Django 4.2.30 UnsaltedMD5PasswordHasher",
        "tangerine-voyage-41",
        "e434e24b30fc41833f72e719f6e15c21",
    ),
    (
        "Django 4.2.30 UnsaltedMD5PasswordHasher, md5$$ form",
        "tangerine-voyage-41",
        "md5$$e434e24b30fc41833f72e719f6e15c21",
    ),
    (
        "Django 4.2.30 UnsaltedSHA1PasswordHasher",
        "tangerine-voyage-41",
        "sha1$$23ca1c0c74e4c39bb43de6656f7d2f5ec18f7499",
    ),
];

#[test]
fn every_django_hash_verifies_its_password_only() {
    let hasher = hasher();
    assert!(DJANGO.len() >= 20, "the vectors are all there");
    for (case, password, stored) in DJANGO {
        assert_eq!(hasher.check(password, stored), Ok(true), "{case}");
        let wrong = format!("{password}x");
        assert_eq!(
            hasher.check(&wrong, stored),
            Ok(false),
            "{case}: a wrong password"
        );
        assert_eq!(
            hasher.check("", stored),
            Ok(false),
            "{case}: an empty password"
        );
        assert!(
            hasher.must_update(stored) || stored.starts_with("bcrypt_sha256$"),
            "{case}"
        );
    }
}

#[test]
fn a_truncated_or_altered_django_hash_never_matches() {
    let hasher = hasher();
    for (case, password, stored) in DJANGO {
        for cut in [1, 4, stored.len() / 2] {
            let truncated = &stored[..stored.len() - cut];
            assert_ne!(
                hasher.check(password, truncated),
                Ok(true),
                "{case}: {cut} characters cut"
            );
        }
        // A character of the hash itself (not the last, whose low bits may be padding).
        let at = stored.len() - 5;
        let swapped = if &stored[at..=at] == "A" { "B" } else { "A" };
        let altered = format!("{}{swapped}{}", &stored[..at], &stored[at + 1..]);
        assert_ne!(
            hasher.check(password, &altered),
            Ok(true),
            "{case}: a character changed"
        );
    }
}

#[test]
fn a_real_django_crypt_hash_is_refused_whatever_the_password() {
    // Django 4.2's CryptPasswordHasher verifies "tangerine" against it too: DES crypt reads
    // only the first 8 characters.
    let stored = "crypt$$kg7TDv/kANNoU";
    for password in ["tangerine-voyage-41", "tangerine"] {
        assert_eq!(
            hasher().check(password, stored),
            Err(Unverifiable::Unsupported("crypt")),
            "{password}"
        );
    }
}
