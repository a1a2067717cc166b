"""Product reviews (staff): reviewers and marketers hide or restore them."""
