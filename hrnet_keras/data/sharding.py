"""`shard`: the part of a dataset one input pipeline of a distributed run reads."""


def shard(dataset, input_context):
    """`dataset` cut to the elements of this pipeline of `input_context` (all without one).

    Element i goes to pipeline `i % num_input_pipelines`, so shards of a keyed stream (see
    `hrnet_keras.data.epoch_stream`) together hold every example once per epoch.

    Args:
        dataset: a `tf.data.Dataset`.
        input_context: a `tf.distribute.InputContext`, or None.

    Returns:
        A `tf.data.Dataset`.

    Example:
    >>> import tensorflow as tf
    >>> context = tf.distribute.InputContext(num_input_pipelines=2, input_pipeline_id=1)
    >>> [int(x) for x in shard(tf.data.Dataset.range(5), context)]
    [1, 3]
    """
    if input_context is None or input_context.num_input_pipelines <= 1:
        return dataset
    return dataset.shard(input_context.num_input_pipelines, input_context.input_pipeline_id)
