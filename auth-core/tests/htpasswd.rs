use auth_core::htpasswd::{HashError, Htpasswd, LineError, LineWarning, Lookup, PasswordHash};

const ALL_FORMATS: &[u8] = include_bytes!("../../t/fixtures/all-formats.htpasswd");
const UTF8: &[u8] = include_bytes!("../../t/fixtures/utf8.htpasswd");

#[test]
fn every_format_written_by_the_real_tools_verifies() {
    let (file, warnings) = Htpasswd::parse(ALL_FORMATS);
    assert_eq!(warnings, []);
    assert_eq!(file.len(), 17);

    for line in ALL_FORMATS.split(|&c| c == b'\n').skip(1) {
        let Some(colon) = line.iter().position(|&c| c == b':') else {
            continue;
        };
        let user = &line[..colon];
        let name = String::from_utf8_lossy(user);
        let hash = file
            .get(user)
            .unwrap_or_else(|| panic!("{name} is missing"));

        assert_eq!(hash.verify(b"s3cret-pw"), Ok(true), "{name} ({hash:?})");
        assert_eq!(hash.verify(b"S3cret-pw"), Ok(false), "{name} ({hash:?})");
        assert_eq!(hash.verify(b""), Ok(false), "{name} ({hash:?})");
    }
}

#[test]
fn schemes_are_recognised() {
    let (file, _) = Htpasswd::parse(ALL_FORMATS);
    let scheme = |user: &str| file.get(user.as_bytes()).unwrap().scheme();

    assert_eq!(scheme("plain"), "{PLAIN}");
    assert_eq!(scheme("sha"), "{SHA}");
    assert_eq!(scheme("ssha"), "{SSHA}");
    assert_eq!(scheme("apr1"), "apr1");
    assert_eq!(scheme("md5crypt"), "MD5-crypt");
    assert_eq!(scheme("bcrypt"), "bcrypt");
    assert_eq!(scheme("sha256-rounds"), "SHA-256-crypt");
    assert_eq!(scheme("sha512-rounds"), "SHA-512-crypt");
    assert_eq!(scheme("yescrypt"), "yescrypt");
    assert_eq!(scheme("des"), "DES");
}

#[test]
fn non_ascii_user_and_password_with_colon() {
    let (file, warnings) = Htpasswd::parse(UTF8);
    assert_eq!(warnings, []);
    let hash = file.get("jürgen".as_bytes()).unwrap();
    assert_eq!(hash.verify("pä:ss wörd".as_bytes()), Ok(true));
    assert_eq!(hash.verify("pä:ss".as_bytes()), Ok(false));
}

#[test]
fn layout_comments_crlf_and_duplicates() {
    let data = b"# comment\r\n\r\n  \nalice:{PLAIN}one:Alice Liddell\r\nbob:{PLAIN}two\r\nalice:{PLAIN}three\nlast:{PLAIN}four";
    let (file, warnings) = Htpasswd::parse(data);

    assert_eq!(file.len(), 3);
    assert_eq!(file.get(b"alice").unwrap().verify(b"one"), Ok(true));
    assert_eq!(file.get(b"alice").unwrap().verify(b"three"), Ok(false));
    assert_eq!(file.get(b"bob").unwrap().verify(b"two"), Ok(true));
    assert_eq!(file.get(b"last").unwrap().verify(b"four"), Ok(true));
    assert!(file.get(b"# comment").is_none());
    assert_eq!(
        warnings,
        [LineWarning {
            line: 6,
            error: LineError::Duplicate,
            refused: None,
        }]
    );
}

#[test]
fn malformed_lines_are_skipped_and_reported() {
    let data = b"ok:{PLAIN}x\n\
        nocolon\n\
        :{PLAIN}x\n\
        emptyhash:\n\
        plaintext:secret\n\
        shortsha:{SHA}abc\n\
        badapr1:$apr1$salt$tooshort\n\
        badbcrypt:$2y$10$short\n\
        badsha512:$6$rounds=1$salt$x\n\
        unknown:$9$whatever\n\
        badyescrypt:$y$\n";
    let (file, warnings) = Htpasswd::parse(data);

    let errors: Vec<_> = warnings.iter().map(|w| (w.line, w.error.clone())).collect();
    assert_eq!(
        errors,
        [
            (2, LineError::NoColon),
            (3, LineError::EmptyUser),
            (4, LineError::EmptyHash),
            (5, LineError::Hash(HashError::Unsupported)),
            (6, LineError::Hash(HashError::Malformed("{SHA}"))),
            (7, LineError::Hash(HashError::Malformed("apr1"))),
            (8, LineError::Hash(HashError::Malformed("bcrypt"))),
            (9, LineError::Hash(HashError::Malformed("SHA-512-crypt"))),
            (10, LineError::Hash(HashError::Unsupported)),
            (11, LineError::Hash(HashError::Malformed("yescrypt"))),
        ]
    );
    let refused: Vec<_> = warnings.iter().filter_map(|w| w.refused.clone()).collect();
    assert_eq!(
        refused,
        [
            "emptyhash",
            "plaintext",
            "shortsha",
            "badapr1",
            "badbcrypt",
            "badsha512",
            "unknown",
            "badyescrypt"
        ]
        .map(|u| u.as_bytes().into())
    );
    assert_eq!(file.len(), 9);
    assert!(matches!(
        file.lookup(b"badapr1"),
        Lookup::Unusable { line: 7 }
    ));
    assert!(matches!(file.lookup(b"nocolon"), Lookup::Unknown));
}

/// As `ngx_http_auth_basic_module` reads the file: the first line for a name claims it whatever
/// its hash, the name is not trimmed, the hash ends at `:` or CR and keeps its blanks.
#[test]
fn read_as_auth_basic_reads_it() {
    let data = b"u:!{PLAIN}old\n\
        u:{PLAIN}old\n\
        v:\n\
        v:{PLAIN}old\n\
        \x20 w:{PLAIN}pw\n\
        \rr:{PLAIN}pw\n\
        cr:{PLAIN}pw\r\n\
        ts:{PLAIN}pw \n\
        co:{PLAIN}a:b\n\
        ep:{PLAIN}\n";
    let (file, warnings) = Htpasswd::parse(data);

    assert!(matches!(file.lookup(b"u"), Lookup::Unusable { line: 1 }));
    assert!(matches!(file.lookup(b"v"), Lookup::Unusable { line: 3 }));
    assert!(file.get(b"w").is_none());
    assert_eq!(file.get(b"  w").unwrap().verify(b"pw"), Ok(true));
    assert!(file.get(b"r").is_none() && file.get(b"\rr").is_none());
    assert_eq!(file.get(b"cr").unwrap().verify(b"pw"), Ok(true));
    assert_eq!(file.get(b"ts").unwrap().verify(b"pw"), Ok(false));
    assert_eq!(file.get(b"ts").unwrap().verify(b"pw "), Ok(true));
    assert_eq!(file.get(b"co").unwrap().verify(b"a"), Ok(true));
    assert_eq!(file.get(b"ep").unwrap().verify(b""), Ok(true));
    assert_eq!(file.decoy().unwrap().verify(b"pw"), Ok(true));

    let lines: Vec<_> = warnings
        .iter()
        .map(|w| (w.line, w.refused.is_some()))
        .collect();
    assert_eq!(lines, [(1, true), (2, false), (3, true), (4, false)]);
}

#[test]
fn binary_garbage_never_panics() {
    let mut data = Vec::new();
    for i in 0..=255u8 {
        data.extend_from_slice(&[i, b':', i, 0, b'$', i, b'\n']);
    }
    data.extend_from_slice(b"\xff\xfe:$apr1$\xff$\n$6$:$6$\n");
    let (file, _) = Htpasswd::parse(&data);
    for i in 0..=255u8 {
        if let Some(hash) = file.get(&[i]) {
            let _ = hash.verify(b"x");
        }
    }
}

#[test]
fn long_and_nul_passwords_are_refused_not_errors() {
    let (file, _) = Htpasswd::parse(ALL_FORMATS);
    let long = vec![b'a'; auth_core::htpasswd::MAX_PASSWORD_LEN + 1];
    for user in [
        "plain", "sha", "apr1", "bcrypt", "sha512", "yescrypt", "des",
    ] {
        let hash = file.get(user.as_bytes()).unwrap();
        assert_eq!(hash.verify(&long), Ok(false), "{user}");
        assert_eq!(hash.verify(b"s3cret-pw\0"), Ok(false), "{user}");
    }
}

#[test]
fn parse_single_hash() {
    assert!(PasswordHash::parse(b"{PLAIN}").is_ok());
    assert!(matches!(
        PasswordHash::parse(b"{SSHA}AAAA"),
        Err(HashError::Malformed("{SSHA}"))
    ));
}

#[test]
fn many_users_each_with_their_own_hash() {
    let mut data = String::from("# 20,000 users, names that are prefixes of one another\n");
    for i in 0..20_000 {
        data.push_str(&format!("u{i}:{{PLAIN}}pw{i}\n"));
    }
    data.push_str("u1:{PLAIN}second\nbroken:$apr1$x\n");
    let (file, warnings) = Htpasswd::parse(data.as_bytes());
    assert_eq!(file.len(), 20_001);
    assert_eq!(
        warnings.iter().map(|w| w.line).collect::<Vec<_>>(),
        [20_002, 20_003]
    );
    for i in [0, 1, 10, 100, 1_000, 19_999] {
        let hash = file.get(format!("u{i}").as_bytes()).unwrap();
        assert_eq!(hash.verify(format!("pw{i}").as_bytes()), Ok(true), "u{i}");
        assert_eq!(hash.verify(b"pw"), Ok(false), "u{i}");
    }
    assert!(matches!(file.lookup(b"u20000"), Lookup::Unknown));
    assert!(matches!(file.lookup(b"u"), Lookup::Unknown));
    assert!(matches!(
        file.lookup(b"broken"),
        Lookup::Unusable { line: 20_003 }
    ));
    assert_eq!(file.decoy().unwrap().verify(b"pw0"), Ok(true));
}

#[test]
fn a_hash_of_its_own_outlives_the_file() {
    let (file, _) = Htpasswd::parse(ALL_FORMATS);
    let owned: Vec<_> = [
        "plain",
        "ssha",
        "apr1",
        "bcrypt",
        "sha256-rounds",
        "yescrypt",
    ]
    .iter()
    .map(|user| file.get(user.as_bytes()).unwrap().to_owned())
    .collect();
    drop(file);
    for hash in owned {
        assert_eq!(hash.verify(b"s3cret-pw"), Ok(true), "{hash:?}");
        assert_eq!(hash.verify(b"s3cret-pW"), Ok(false), "{hash:?}");
    }
}
