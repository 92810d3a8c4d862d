"""``quantdesk serve ssh``: the console for every trader who connects with
``ssh``, each in a PTY of their own, all over one shared feed."""
