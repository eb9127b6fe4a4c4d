"""`python -m jianyan …`: the same command as `jianyan …`."""

if __name__ == "__main__":  # multiprocessing children import this module under another name
    from .entry import main

    main()
