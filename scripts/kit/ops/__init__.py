"""Operations that move the checkout or the patches: apply, onto, refresh, restack, bump, patches."""
