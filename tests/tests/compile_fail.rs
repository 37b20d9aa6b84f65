//! The type-state claims hold at compile time: each file in `tests/ui/` must fail to compile,
//! with the error recorded next to it.

#[test]
fn type_state_rules_are_enforced_by_the_compiler() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("ui/*.rs");
}
