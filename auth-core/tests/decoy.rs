use auth_core::htpasswd::Htpasswd;

#[test]
fn the_decoy_is_the_first_usable_hash() {
    let (file, _) =
        Htpasswd::parse(b"broken\nfirst:$apr1$ufGTkyyM$FCTeo8BdAhLmOqoz2zkXT0\nsecond:{PLAIN}x\n");
    assert_eq!(file.decoy().unwrap().scheme(), "apr1");
    assert_eq!(file.decoy().unwrap().verify(b"s3cret-pw"), Ok(true));

    let (empty, _) = Htpasswd::parse(b"# nobody\n");
    assert!(empty.decoy().is_none());
}
