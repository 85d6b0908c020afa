"""An app installed inside registryapp's package, by the tests that need one."""
