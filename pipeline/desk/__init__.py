"""The officer's desk (`treem ui`): a local web page over the same stage functions as the CLI."""
